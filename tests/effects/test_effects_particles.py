"""Particle effects: seamless loops, ground contact, bounds, determinism, budgets."""

from __future__ import annotations

import numpy as np
import pytest
from effects_scenes import make_scene

from paint2vr.effects import EFFECTS, add_effects, effect_budget, eval_track, scene_space
from paint2vr.errors import InputError

PARTICLES = ["snow", "rain", "leaves", "petals", "fireflies", "dust"]
FALLING = ["snow", "rain", "leaves", "petals"]


@pytest.fixture(scope="module")
def baked():
    """Each particle effect baked once on a hilly scene (shared by the read-only tests)."""
    out = {}
    for name in PARTICLES + ["mist", "birds", "sway"]:
        s = make_scene(hill=3.0)
        add_effects(s, [name], seed=5)
        out[name] = (s, s.effects[-1])
    return out


def centres_at(effect, t: np.ndarray):
    """Per node: (T, P, 3) world particle centres (4 vertices each) and (T,) visibility."""
    tracks = {(id(tr.node), tr.path): tr for c in effect.clips for tr in c.tracks}
    out = []
    for node in effect.nodes:
        local = node.mesh.positions.reshape(-1, 4, 3).mean(1).astype(np.float64)
        tr = tracks[(id(node), "translation")]
        sc = tracks.get((id(node), "scale"))
        vis = np.ones(len(t), bool) if sc is None else eval_track(sc, t)[:, 0] > 0
        out.append((local[None] + eval_track(tr, t)[:, None, :], vis))
    return out


@pytest.mark.parametrize("name", PARTICLES + ["mist", "birds", "sway"])
def test_tracks_loop_seamlessly(baked, name):
    _, eff = baked[name]
    loop = eff.options["loop_seconds"]
    assert eff.clips and eff.clips[0].tracks
    for tr in eff.clips[0].tracks:
        assert tr.times.dtype == np.float32 and tr.values.dtype == np.float32
        assert tr.times[0] == 0 and tr.times[-1] == np.float32(loop)
        assert np.all(np.diff(tr.times) > 0), "glTF needs strictly increasing times"
        np.testing.assert_array_equal(tr.values[0], tr.values[-1])
        width = {"translation": 3, "scale": 3, "rotation": 4}.get(tr.path)
        assert tr.values.shape[1] == (width or len(tr.node.mesh.morph_targets))


@pytest.mark.parametrize("name", PARTICLES)
def test_particles_never_below_the_surface(baked, name):
    scene, eff = baked[name]
    sp = scene_space(scene)
    loop = eff.options["loop_seconds"]
    t = np.linspace(0, loop, 301)
    lowest = []
    for c, vis in centres_at(eff, t):
        c = c[vis]
        # Samples of a path keep above the max-filtered field; every point above the surface.
        h = sp.surface.at(c[..., 0], c[..., 2])
        assert (c[..., 1] >= h - 1e-4).all(), f"{name} particle below the surface"
        # Independent of the height field: never below the analytic hill, nor inside the tree card.
        gx, gz = c[..., 0], c[..., 2]
        hill = 3.0 * np.exp(-((gx - 6) ** 2 + (gz + 25) ** 2) / 60.0)
        assert (c[..., 1] >= hill - 1e-4).all()
        in_tree = (np.abs(gx) < 4) & (np.abs(gz + 20) < 0.2) & (c[..., 1] < 9)
        assert not in_tree.any()
        # In bounds: over the height field's extent, below the top of the volume.
        assert (gx >= sp.height.x0).all() and (gz >= sp.height.z0).all()
        assert (gx <= sp.height.x0 + sp.height.cell * sp.height.grid.shape[1]).all()
        assert (c[..., 1] <= h + 35.0).all()
        lowest.append((c[..., 1] - h).min(0))
    if name in FALLING:
        # The lowest tier lands: those particles come down to the surface (within their slab
        # jitter, their size and the height field's cell) before they respawn.
        o = eff.options
        cycles = max(1, round(o["speed"] * o["loop_seconds"] / o["height"]))
        fall = o["speed"] * o["loop_seconds"] / cycles
        tiers = max(1, round(o["height"] / fall))
        near = fall / o["groups"] + o["size"] * 0.65 * (1 + sp.far / 15) + 2 * sp.height.cell
        gap = np.concatenate(lowest)
        assert np.mean(gap < near) > 0.8 / tiers


@pytest.mark.parametrize("name", PARTICLES)
def test_visible_motion_is_continuous(baked, name):
    _, eff = baked[name]
    o = eff.options
    t = np.linspace(0, o["loop_seconds"], 801)
    dt = t[1] - t[0]
    vmax = o.get("speed", 0.0) + o.get("wind_speed", 0.0) + 6 * (o.get("flutter", 0.0) + o.get("wander", 0.0))
    scale_of = {id(tr.node): tr for tr in eff.clips[0].tracks if tr.path == "scale"}
    for node, (c, vis) in zip(eff.nodes, centres_at(eff, t)):
        both = vis[1:] & vis[:-1]
        if id(node) in scale_of:  # an interval holding a respawn (scale 0 key) is not continuous
            sc = scale_of[id(node)]
            off = sc.times[sc.values[:, 0] == 0]
            both &= ~((off[None] >= t[:-1, None]) & (off[None] <= t[1:, None])).any(1)
        # The only jumps are respawns, each hidden behind scale 0.
        step = np.linalg.norm(np.diff(c, axis=0), axis=-1).max(1)
        assert (step[both] <= vmax * dt * 2 + 1e-4).all()


def test_snow_reaches_up_and_fills_past_frame(baked):
    scene, eff = baked["snow"]
    c = np.concatenate([x[0][0] for x in centres_at(eff, np.array([1.0]))])
    cam = scene.camera
    u, v, z = cam.project(c)
    assert c[:, 1].max() > 8.0
    outside = (u < 0) | (u > cam.width)
    assert 0.05 < outside.mean() < 0.7, "some flakes lie beyond the frame edges"
    assert (z < 5).sum() > 50, "flakes near the viewer"


@pytest.mark.parametrize("name", PARTICLES + ["mist", "birds", "sway"])
def test_budget_at_default_density(baked, name):
    draws, nbytes = effect_budget(baked[name][1])
    assert draws <= 32 and nbytes <= 2_000_000


def _arrays(effect):
    out = [n.mesh.positions for n in effect.nodes if n.mesh is not None]
    out += [tr.values for c in effect.clips for tr in c.tracks]
    return out


@pytest.mark.parametrize("name", ["snow", "fireflies", "mist", "birds"])
def test_same_seed_same_arrays_other_seed_differs(name):
    a = add_effects(make_scene(), [name], seed=11).effects[-1]
    b = add_effects(make_scene(), [name], seed=11).effects[-1]
    c = add_effects(make_scene(), [name], seed=12).effects[-1]
    for x, y in zip(_arrays(a), _arrays(b)):
        np.testing.assert_array_equal(x, y)
    assert any(x.shape != z.shape or not np.array_equal(x, z) for x, z in zip(_arrays(a), _arrays(c)))


def test_density_scales_particle_count():
    one = add_effects(make_scene(), ["snow"], seed=0).effects[-1]
    two = add_effects(make_scene(), ["snow"], {"snow": {"density": 2.0}}, seed=0).effects[-1]
    n1 = sum(n.mesh.positions.shape[0] for n in one.nodes) // 4
    n2 = sum(n.mesh.positions.shape[0] for n in two.nodes) // 4
    assert n1 == 6000 and n2 == 12000


def test_fireflies_blink_and_hover(baked):
    scene, eff = baked["fireflies"]
    paths = {tr.path for tr in eff.clips[0].tracks}
    assert paths == {"translation", "scale"}
    sp = scene_space(scene)
    for c, _ in centres_at(eff, np.linspace(0, 8, 50)):
        gap = c[..., 1] - sp.height.at(c[..., 0], c[..., 2])
        assert gap.min() >= 0.3 - 1e-4 and np.median(gap) <= 2.5 + 0.8  # wander and slopes add a little


def test_mist_sheets_drape_above_land(baked):
    scene, eff = baked["mist"]
    sp = scene_space(scene)
    assert len(eff.nodes) == 3
    for node in eff.nodes:
        m = node.mesh
        assert m.alpha_mode == "BLEND" and m.colors is not None
        assert (m.colors[:, 3] >= 0).all() and (m.colors[:, 3] <= 1).all() and m.colors[:, 3].max() > 0.05
        tr = eff.clips[0].tracks[eff.nodes.index(node)]
        for off in eval_track(tr, np.linspace(0, 8, 41)):
            p = m.positions + off
            assert (p[:, 1] >= sp.height.at(p[:, 0], p[:, 2]) + 1.2 - 1e-3).all()


def test_unknown_effect_and_bad_options_raise():
    with pytest.raises(InputError, match="unknown effect"):
        add_effects(make_scene(), ["hail"])
    with pytest.raises(InputError, match="density"):
        add_effects(make_scene(), ["snow"], {"snow": {"density": -1.0}})
    with pytest.raises(InputError, match="unknown option"):
        add_effects(make_scene(), ["snow"], {"snow": {"dencity": 1.0}})
    with pytest.raises(InputError, match="not being added"):
        add_effects(make_scene(), ["snow"], {"rain": {}})
    with pytest.raises(InputError, match="twice"):
        add_effects(make_scene(), ["snow", "snow"])
    with pytest.raises(InputError, match="must be"):
        add_effects(make_scene(), ["snow"], {"snow": EFFECTS["rain"].default})
    with pytest.raises(InputError):
        add_effects("scene", ["snow"])  # type: ignore[arg-type]


def test_add_effects_appends_and_records_provenance():
    s = make_scene()
    out = add_effects(s, "snow,birds", seed=3)
    assert out is s and [e.name for e in s.effects] == ["snow", "birds"]
    assert s.provenance["effects"]["seed"] == 3
    assert s.provenance["effects"]["options"]["snow"]["density"] == 1.0
    # The effect's nodes are scene nodes, after the layers.
    assert s.nodes()[len(s.layers)] is s.effects[0].nodes[0]

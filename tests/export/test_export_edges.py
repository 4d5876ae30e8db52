"""Clean layer edges: transparent texels next to opaque ones carry the layer's own colour, so
filtering and mipmaps never pull a foreign (often dark) colour into the silhouette."""

import numpy as np
import pytest

from paint2vr.export import ExportOptions, save_scene
from paint2vr.io.gltf_read import read_gltf
from paint2vr.texture import bleed_edge_colours, bleed_edge_colours_reference

from p2v_testing import ROOT


def _random_layer(seed: int, shape=(40, 50), p=0.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tex = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    tex[..., 3] = np.where(rng.random(shape) < p, 255, 0)
    return tex


@pytest.mark.parametrize("seed", [0, 1])
def test_bleed_matches_the_reference(seed):
    tex = _random_layer(seed)
    got, ref = bleed_edge_colours(tex, 3), bleed_edge_colours_reference(tex, 3)
    assert np.array_equal(got[..., 3], tex[..., 3])
    opaque = tex[..., 3] >= 128
    assert np.array_equal(got[opaque], tex[opaque])
    ys, xs = np.nonzero(opaque)
    for y, x in zip(*np.nonzero((got != ref).any(axis=2))):
        # OpenCV's 5x5 distance mask is within a few % of Euclidean: ties and near-ties may pick
        # another opaque texel, never a farther one by more than a texel
        d = np.sqrt((ys - y) ** 2 + (xs - x) ** 2)
        same = (tex[ys, xs, :3] == got[y, x, :3]).all(axis=1)
        assert same.any() and d[same].min() <= d.min() + 1.0
    assert (got != ref).any(axis=2).mean() < 0.05


def _edge_colour_errors(tex: np.ndarray) -> np.ndarray:
    """For each transparent texel with an opaque 8-neighbour: how far (max over channels) its
    colour lies outside the range of those neighbours' colours."""
    a = tex[..., 3] >= 128
    h, w = a.shape
    pad_a = np.pad(a, 1)
    pad_c = np.pad(tex[..., :3].astype(int), ((1, 1), (1, 1), (0, 0)))
    lo = np.full((h, w, 3), 10**6)
    hi = np.full((h, w, 3), -10**6)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            na = pad_a[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
            nc = pad_c[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
            lo = np.where(na[..., None], np.minimum(lo, nc), lo)
            hi = np.where(na[..., None], np.maximum(hi, nc), hi)
    edge = ~a & (hi[..., 0] >= lo[..., 0])
    c = tex[..., :3].astype(int)[edge]
    return np.maximum(lo[edge] - c, c - hi[edge]).clip(0).max(axis=1)


def test_written_layer_edges_hold_their_neighbours_colours(tmp_path):
    import paint2vr
    scene = paint2vr.convert(str(ROOT / "assets" / "sample_painting.png"))
    glb = save_scene(scene, tmp_path / "s.glb", ExportOptions(profile="desktop"))
    doc = read_gltf(glb)
    checked = 0
    for i in range(len(doc.gltf.images)):
        tex = doc.image(i)
        if tex.shape[2] != 4:
            continue
        before = _edge_colour_errors(scene.layers[0].node.mesh.texture) if i == 0 else None
        err = _edge_colour_errors(tex)
        checked += err.size
        assert err.size and err.max() <= 2, (i, np.percentile(err, [50, 99]), before is not None and before.max())
    assert checked > 100


def test_layers_are_pushed_apart_along_the_eye_rays(tmp_path):
    # layer k is scaled about the eye by 1 + k * step: no two layers share a depth, the start
    # view keeps every point on its ray (Eevee drew depth ties between layers as holes)
    from paint2vr.export.gltf import DEFAULT_GLTF_OPTIONS, GltfOptions, push_back, to_glb_bytes
    from paint2vr.preview import read_scene
    from paint2vr.render import render_scene
    from paint2vr.scene import Layer, Node
    from scene_factory import quad, small_scene
    scene = small_scene(with_effect=False)
    rgba = scene.layers[0].node.mesh.texture
    scene.layers.insert(1, Layer("layer1", Node("layer1", quad("layer1", 4.0, 3.0, rgba[:, ::-1].copy(), alpha=True)),
                                 (3.5, 4.5)))
    eye = scene.camera.position
    t, s = push_back(None, None, eye, 1.5)
    p = np.array([0.3, -0.2, -4.0])
    assert np.allclose(np.array(t) + np.array(s) * p - eye, 1.5 * (p - eye))
    path = tmp_path / "tie.glb"
    path.write_bytes(to_glb_bytes(scene))
    nodes = {n.name: n for n in read_gltf(path).gltf.nodes}
    step = DEFAULT_GLTF_OPTIONS.layer_depth_step
    assert nodes["layer0"].scale is None and nodes["layer1"].scale == pytest.approx([1 + step] * 3)
    assert nodes["sky"].scale is None
    in_place = tmp_path / "in_place.glb"
    in_place.write_bytes(to_glb_bytes(scene, GltfOptions(layer_depth_step=0.0)))
    before, after = render_scene(read_scene(in_place), 64)[0], render_scene(read_scene(path), 64)[0]
    assert np.abs(before.astype(np.int16) - after.astype(np.int16)).mean() < 0.5  # same start view

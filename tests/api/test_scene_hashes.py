"""The scenes paintings become, byte for byte: geometry, textures and animation hashed apart.

``scene_hashes.json`` (next to this file) holds the hashes of what :func:`paint2vr.convert`
gives, with the default options, for the sample painting and the shared paintings, with a
fixed effect set (snow,birds) and with ``effects="auto"``. Refactors must leave them alone.

A change that is meant to change a scene (a better depth estimator, a new world) regenerates
the file and says, in its commit message, which hashes changed and why:

    P2V_UPDATE_SCENE_HASHES=1 PYTHONPATH=$PWD .venv/bin/python -m pytest -q tests/api/test_scene_hashes.py

(writes only the cases that ran; a shared painting that is absent is skipped, never dropped).

The big shared paintings are first resized in the test itself (deterministically, Pillow's
area filter to about 0.5 MP, saved as PNG), so the same reduced input is hashed before and
after a change, and the test stays fast.

Each conversion runs in a child process with numpy's SIMD dispatch held at AVX2
(:func:`p2v_testing.reproducible_env`): its AVX-512 sums round differently, so the same code
gave other bytes on an AVX-512 machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import paint2vr
from p2v_testing import PAINTINGS, ROOT, reproducible_env

HASHES = Path(__file__).with_name("scene_hashes.json")
UPDATE = os.environ.get("P2V_UPDATE_SCENE_HASHES", "") not in ("", "0")
TARGET_PIXELS = 500_000
PROVENANCE_SKIP = frozenset({"options", "paint2vr_version"})
"""Provenance keys left out of the provenance hash: 'options' is the record of the options
tree, whose layout issue #15 rewrites (it is hashed alone, as 'options', for information);
the version changes with every release."""
PROVENANCE_ADDED = (("effects_auto",), ("lift_result", "horizon_row"))
"""Fields issue #15 added to the provenance (why 'auto' chose each effect; the depth map's
horizon camera hint), left out so the hash compares the record as it was."""
PROVENANCE_RENAMED = {("lift", "walkable_radius"): "walk_radius"}
"""Fields issue #15 renamed (one name per concept), hashed under their former names."""

SOURCES = {
    "sample": ROOT / "assets" / "sample_painting.png",
    "breezing_up": PAINTINGS / "breezing_up.jpg",
    "hunters_in_the_snow": PAINTINGS / "hunters_in_the_snow.webp",
    "landscape_with_an_aqueduct": PAINTINGS / "landscape_with_an_aqueduct.jpg",
}
EFFECT_SETS = {"snow_birds": "snow,birds", "auto": "auto"}


def _h() -> "hashlib._Hash":
    return hashlib.sha256()


def _arr(h, a: np.ndarray | None) -> None:
    if a is None:
        h.update(b"<none>")
        return
    a = np.ascontiguousarray(a)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def scene_hashes(scene: paint2vr.Scene) -> dict[str, str]:
    """sha256 of the scene's geometry, textures, animation and provenance, each alone."""
    geo, tex, anim = _h(), _h(), _h()
    cam = scene.camera
    geo.update(repr((cam.width, cam.height, round(cam.yfov, 12), cam.position,
                     float(scene.walkable_radius))).encode())
    for layer in scene.layers:
        geo.update(repr((layer.name, layer.kind, tuple(float(x) for x in layer.depth_range))).encode())
        if layer.points is not None:
            _arr(geo, layer.points.positions)
            _arr(geo, layer.points.colors)
    for node in _walk(scene.nodes()):
        geo.update(repr((node.name, node.translation, node.rotation, node.scale, node.weights)).encode())
        m = node.mesh
        if m is None:
            continue
        geo.update(repr((m.name, m.alpha_mode, m.unlit, m.double_sided, m.base_color)).encode())
        for a in (m.positions, m.faces, m.uvs, m.colors, m.normals, *m.morph_targets):
            _arr(geo, a)
        tex.update(m.name.encode())
        _arr(tex, m.texture)
    for effect in scene.effects:
        anim.update(effect.name.encode())
        for clip in effect.clips:
            anim.update(clip.name.encode())
            for t in clip.tracks:
                anim.update(repr((t.node.name, t.path, t.interpolation)).encode())
                _arr(anim, t.times)
                _arr(anim, t.values)
    prov = json.loads(json.dumps({k: v for k, v in scene.provenance.items() if k not in PROVENANCE_SKIP},
                                 default=str))
    for *parents, leaf in PROVENANCE_ADDED:
        node = prov
        for p in parents:
            node = node.get(p, {})
        node.pop(leaf, None)
    for (parent, new), old in PROVENANCE_RENAMED.items():
        if isinstance(prov.get(parent), dict) and new in prov[parent]:
            prov[parent][old] = prov[parent].pop(new)
    dump = lambda v: json.dumps(v, sort_keys=True, default=str).encode()  # noqa: E731
    return {"geometry": geo.hexdigest(), "textures": tex.hexdigest(), "animation": anim.hexdigest(),
            "provenance": hashlib.sha256(dump(prov)).hexdigest(),
            "options": hashlib.sha256(dump(scene.provenance.get("options"))).hexdigest(),
            "effects": ",".join(e.name for e in scene.effects)}


def reduced_input(name: str, tmp: Path) -> Path:
    """The painting as converted by the test: itself when small, else resized to ~0.5 MP."""
    src = SOURCES[name]
    if not src.exists():
        pytest.skip(f"{src} is absent")
    with Image.open(src) as im:
        w, h = im.size
        if w * h <= 1.5 * TARGET_PIXELS:
            return src
        k = math.sqrt(TARGET_PIXELS / (w * h))
        small = im.convert("RGB").resize((round(w * k), round(h * k)), Image.Resampling.BOX)
    out = tmp / f"{name}.png"
    small.save(out)
    return out


def converted_hashes(path: Path, effects: str) -> dict[str, str]:
    """:func:`scene_hashes` of ``convert(path, effects=effects)``, computed in a child process."""
    code = ("import json, sys, paint2vr; from test_scene_hashes import scene_hashes; "
            "print(json.dumps(scene_hashes(paint2vr.convert(sys.argv[1], effects=sys.argv[2]))))")
    env = reproducible_env(PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(Path(__file__).parent)]))
    done = subprocess.run([sys.executable, "-c", code, str(path), effects], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _recorded() -> dict:
    return json.loads(HASHES.read_text()) if HASHES.exists() else {}


@pytest.mark.parametrize("effects", sorted(EFFECT_SETS))
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_scene_hashes_unchanged(name: str, effects: str, tmp_path: Path) -> None:
    path = reduced_input(name, tmp_path)
    got = converted_hashes(path, EFFECT_SETS[effects])
    key = f"{name}/{effects}"
    if UPDATE:
        recorded = _recorded()
        recorded[key] = got
        HASHES.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
        return
    want = _recorded().get(key)
    assert want is not None, f"no recorded hashes for {key}: run with P2V_UPDATE_SCENE_HASHES=1"
    for part in ("geometry", "textures", "animation", "provenance", "effects"):
        assert got[part] == want[part], (
            f"{key}: the scene's {part} changed ({want[part]} -> {got[part]}); if that is meant, "
            "regenerate with P2V_UPDATE_SCENE_HASHES=1 and justify it in the commit")

"""Sway goes where there are trees (issue #15: on Breezing Up the sail and the boys wobbled):
not on dark clothes or hulls, not on a green sea lying flat, and 'auto' does not choose it
for a seascape."""

from __future__ import annotations

import math

import numpy as np
import pytest
from effects_scenes import card, grid_faces, make_scene
from PIL import Image

from paint2vr.effects import SwayOptions, suggest_effects, sway
from paint2vr.effects.sway import vegetation_score, vegetation_score_reference
from paint2vr.scene import Layer, Mesh, Node

from p2v_testing import PAINTINGS


def _textured(rng, base, spread, shape=(32, 32)):
    """Busy brushwork in one hue: the brightness varies, the colour does not."""
    light = 1.0 + rng.normal(0, spread, shape)[..., None]
    return np.clip(np.asarray(base, float) * light, 0, 255).astype(np.uint8)


def _with_figure_and_sea():
    s = make_scene()
    rng = np.random.default_rng(3)
    figure = _textured(rng, (70, 45, 30), 0.45)  # dark brown clothes, busy brushwork
    s.layers.insert(2, Layer("layer9", Node("layer9", card("figure", (-9, -7), (0, 2.5), -12.0, figure)), (12, 12)))
    gx, gz = np.meshgrid(np.linspace(-40, 40, 21), np.linspace(-80, -30, 16))
    pos = np.stack([gx, np.zeros_like(gx), gz], -1).reshape(-1, 3).astype(np.float32)
    uv = np.stack(np.meshgrid(np.linspace(0, 1, 21), np.linspace(0, 1, 16)), -1).reshape(-1, 2).astype(np.float32)
    sea = _textured(rng, (50, 100, 70), 0.45)  # green, choppy water
    s.layers.insert(0, Layer("sea", Node("sea", Mesh("sea", pos, grid_faces(16, 21), uvs=uv, texture=sea)), (30, 80)))
    return s


def test_sway_moves_the_tree_not_figures_or_a_flat_green_sea():
    s = _with_figure_and_sea()
    sway(s, SwayOptions(), seed=1)
    moved = {l.name: float(np.abs(np.stack(l.node.mesh.morph_targets)).max()) if l.node.mesh.morph_targets else 0.0
             for l in s.layers}
    assert moved["layer1"] > 0.05, "the tree sways"
    assert moved["layer9"] < 0.01, "a dark, busy figure is not foliage"
    assert moved["sea"] < 0.01, "a green sea lies flat: it is not foliage"


def test_vegetation_score_matches_its_reference():
    rng = np.random.default_rng(0)
    rgb = rng.uniform(0, 1, (500, 3))
    detail = rng.uniform(0, 0.08, 500)
    np.testing.assert_allclose(vegetation_score(rgb, detail), vegetation_score_reference(rgb, detail), atol=1e-9)


@pytest.mark.skipif(not (PAINTINGS / "breezing_up.jpg").exists(), reason="shared paintings absent")
def test_auto_does_not_sway_a_seascape():
    import paint2vr
    im = Image.open(PAINTINGS / "breezing_up.jpg").convert("RGB")
    k = math.sqrt(300_000 / (im.width * im.height))
    rgb = np.asarray(im.resize((round(im.width * k), round(im.height * k)), Image.Resampling.BOX))
    assert "sway" not in suggest_effects(rgb, paint2vr.estimate_depth(rgb))

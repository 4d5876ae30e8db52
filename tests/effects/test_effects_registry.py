"""Option parsing for the CLI, suggestions, and the options docs staying true."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from paint2vr.effects import EFFECTS, SnowOptions, parse_effect_options, suggest_effects
from paint2vr.effects.docs import options_markdown
from paint2vr.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
PAINTINGS = ROOT / ".." / "shared" / "paintings"


def test_registry_shape():
    for name, entry in EFFECTS.items():
        cls, fn = entry
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
        assert isinstance(entry.default, cls) and callable(fn)


def test_parse_effect_options_types():
    out = parse_effect_options(["snow.density=2", "snow.color=1,0.9,0.8", "birds.count=5",
                                "fireflies.blink=off", "petals.size=0.05"])
    assert out["snow"] == SnowOptions(density=2.0, color=(1.0, 0.9, 0.8))
    assert out["birds"].count == 5 and isinstance(out["birds"].count, int)
    assert out["fireflies"].blink is False
    assert out["petals"].size == 0.05 and out["petals"].color == EFFECTS["petals"].default.color
    assert parse_effect_options([]) == {}


@pytest.mark.parametrize("item, match", [
    ("hail.density=1", "unknown effect"), ("snow.dencity=1", "unknown option"), ("snow.density", "form"),
    ("density=2", "form"), ("snow.density=-1", "density"), ("snow.density=lots", "snow.density must be a number"),
    ("snow.color=1,1", "snow.color must be 3"), ("birds.count=2.5", "birds.count must be an integer"),
    ("fireflies.blink=maybe", "must be true or false"), ("snow.color=2,2,2", r"within \[0, 1\]"),
])
def test_parse_effect_options_errors(item, match):
    with pytest.raises(InputError, match=match):
        parse_effect_options([item])


def _image(top, bottom, h=120, w=160, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float64)
    img[: h // 2], img[h // 2:] = top, bottom
    img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


class _Depth:
    def __init__(self, sky, depth=None):
        self.sky = sky
        self.depth = depth if depth is not None else np.where(sky, 200.0, 10.0).astype(np.float32)


def test_suggest_snow_and_birds():
    img = _image((150, 190, 235), (235, 235, 240), noise=12)
    sky = np.zeros(img.shape[:2], bool)
    sky[:50] = True
    assert suggest_effects(img, _Depth(sky)) == ["snow", "birds"]
    assert "birds" not in suggest_effects(img, None)


def test_suggest_mist_fireflies_leaves_sway():
    assert "mist" in suggest_effects(_image((150, 150, 152), (140, 142, 145), noise=3), None)
    assert "fireflies" in suggest_effects(_image((10, 12, 30), (20, 25, 15), noise=5), None)
    assert "leaves" in suggest_effects(_image((200, 110, 30), (180, 90, 20), noise=10), None)
    assert "sway" in suggest_effects(_image((40, 100, 30), (30, 90, 25), noise=40), None)
    assert suggest_effects(_image((128, 60, 60), (60, 60, 128), noise=0), None) == []


def test_suggest_bad_input():
    with pytest.raises(InputError):
        suggest_effects(np.zeros((4, 4), np.uint8), None)
    with pytest.raises(InputError, match="sky mask"):
        suggest_effects(np.zeros((4, 4, 3), np.uint8), _Depth(np.zeros((3, 3), bool)))


def test_suggest_on_hunters_in_the_snow():
    path = PAINTINGS / "hunters_in_the_snow.webp"
    if not path.exists():
        pytest.skip(f"shared paintings not found at {PAINTINGS.resolve()}")
    from PIL import Image
    rgb = np.asarray(Image.open(path).convert("RGB"))
    assert "snow" in suggest_effects(rgb, None)


def test_docs_options_tables_match_dataclasses():
    doc = (ROOT / "docs" / "effects.md").read_text()
    assert options_markdown() in doc, "docs/effects.md is stale: paste paint2vr.effects.docs.options_markdown()"

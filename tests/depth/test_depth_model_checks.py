"""Hostile and broken model folders (issue 19, items 11-13): each refused with one line, a
ModelError, before a model is built or run (no traceback, no gigabytes)."""

from __future__ import annotations

import json
import os
import resource
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from paint2vr.depth.transformers_backend import TransformersEstimator  # noqa: E402
from paint2vr.errors import ModelError  # noqa: E402


def _copy(tiny_model: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    return folder


def _edit_json(path: Path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _refused(folder: Path, *words: str) -> str:
    with pytest.raises(ModelError) as info:
        TransformersEstimator(folder)
    msg = str(info.value)
    assert "\n" not in msg and all(w in msg for w in words), msg
    return msg


def test_the_untouched_tiny_model_still_loads(tiny_model):
    est = TransformersEstimator(tiny_model)
    assert est.model is not None


def test_truncated_and_garbage_safetensors(tiny_model, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    w = folder / "model.safetensors"
    data = w.read_bytes()
    w.write_bytes(data[: len(data) // 2])
    _refused(folder, "truncated")
    w.write_bytes(os.urandom(4096))
    _refused(folder, "not a valid safetensors file")
    w.write_bytes(b"")
    _refused(folder, "safetensors")


def test_weights_symlinked_outside_the_folder(tiny_model, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    (folder / "model.safetensors").unlink()
    os.symlink("/etc/passwd", folder / "model.safetensors")
    _refused(folder, "outside the model folder")


@pytest.mark.parametrize("key, value", [("hidden_size", 1_000_000_000), ("num_hidden_layers", 1_000_000),
                                        ("hidden_size", 1e9), ("num_attention_heads", "2"),
                                        ("intermediate_size", -1)])
def test_absurd_config_values_are_refused_before_building(tiny_model, tmp_path, key, value):
    folder = _copy(tiny_model, tmp_path)
    _edit_json(folder / "config.json", lambda d: d["backbone_config"].__setitem__(key, value))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _refused(folder, key)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing built


def test_config_implying_too_many_parameters(tiny_model, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    _edit_json(folder / "config.json", lambda d: d["backbone_config"].update(
        hidden_size=8192, num_hidden_layers=200, intermediate_size=32768))
    _refused(folder, "parameters")


@pytest.mark.parametrize("bad", ["dinov2", {"model_type": "no-such-model"}, [1, 2], {"hidden_size": [[[[[]]]]]}])
def test_nested_bad_config(tiny_model, tmp_path, bad):
    folder = _copy(tiny_model, tmp_path)
    _edit_json(folder / "config.json", lambda d: d.__setitem__("backbone_config", bad))
    _refused(folder)


def test_deeply_nested_config_json(tiny_model, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    (folder / "config.json").write_text('{"a": ' * 50_000 + "1" + "}" * 50_000)
    _refused(folder, "nested")


@pytest.mark.parametrize("size", [20000, 8000, {"height": 8000, "width": 8000}, "big", 0])
def test_preprocessor_input_size_is_bounded(tiny_model, tmp_path, size):
    folder = _copy(tiny_model, tmp_path)
    _edit_json(folder / "preprocessor_config.json", lambda d: d.__setitem__("size", size))
    _refused(folder, "input size")


def test_safetensors_with_no_tensors_or_missing_weights(tiny_model, tmp_path):
    from safetensors.torch import load_file, save_file
    folder = _copy(tiny_model, tmp_path)
    w = folder / "model.safetensors"
    tensors = load_file(w)
    save_file({}, w)
    _refused(folder, "no tensors")
    keep = dict(list(sorted(tensors.items()))[: len(tensors) // 2])
    save_file(keep, w, metadata={"format": "pt"})
    _refused(folder, "missing")


def test_cli_prints_one_line(tiny_model, tmp_path, capsys):
    from paint2vr.cli.main import main
    from PIL import Image
    folder = _copy(tiny_model, tmp_path)
    (folder / "model.safetensors").write_bytes(os.urandom(100))
    img = tmp_path / "p.png"
    Image.new("RGB", (64, 48), (100, 120, 140)).save(img)
    code = main(["depth", str(img), "-o", str(tmp_path / "d.png"), "--model", str(folder)])
    err = capsys.readouterr().err
    assert code == ModelError.exit_code and len(err.strip().splitlines()) == 1, err


def test_depth_anythings_fractional_reassemble_factor_is_accepted():
    """Real Depth Anything configs say reassemble_factors [4, 2, 1, 0.5]."""
    from paint2vr.depth.model_checks import check_config
    check_config({"reassemble_factors": [4, 2, 1, 0.5], "neck_hidden_sizes": [48, 96, 192, 384]}, "da")
    with pytest.raises(ModelError, match="reassemble_factors"):
        check_config({"reassemble_factors": [4, -2]}, "bad")

"""`models pull` stores weights in the user cache, and without a network fails in one line
leaving nothing behind; the registry ships inside the package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paint2vr.depth import registry
from paint2vr.errors import ModelNotFoundError

ROOT = Path(__file__).resolve().parents[2]


def test_registry_is_package_data():
    assert registry.DEFAULT_REGISTRY.parent == Path(registry.__file__).resolve().parent
    assert "depth-anything-v2-small" in registry.load_registry()


def test_cache_location(monkeypatch, tmp_path):
    for var in ("PAINT2VR_CACHE", "PAINT2VR_WEIGHTS", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert registry.weights_dir() == tmp_path / "home" / ".cache" / "paint2vr" / "models"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert registry.weights_dir() == tmp_path / "xdg" / "paint2vr" / "models"
    monkeypatch.setenv("PAINT2VR_CACHE", str(tmp_path / "c"))
    assert registry.weights_dir() == tmp_path / "c" / "models"
    assert ROOT not in registry.weights_dir().parents


def test_failed_pull_leaves_nothing(monkeypatch, tmp_path):
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def offline(repo_id, revision, local_dir, allow_patterns):
        (Path(local_dir) / "config.json").write_text("{}")  # a partial download
        raise LocalEntryNotFoundError("ConnectError: no route\nAn error happened while trying to locate\nthe files")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # the suite sets it
    monkeypatch.setenv("PAINT2VR_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelNotFoundError) as err:
        registry.pull("depth-anything-v2-small")
    assert "\n" not in str(err.value) and "ConnectError: no route" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # not even the cache folder


def test_pull_moves_a_complete_download_into_place(monkeypatch, tmp_path):
    import huggingface_hub

    def fake(repo_id, revision, local_dir, allow_patterns):
        (Path(local_dir) / "model.safetensors").write_bytes(b"x")
        (Path(local_dir) / ".cache").mkdir()
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("PAINT2VR_CACHE", str(tmp_path))
    out = registry.pull("depth-anything-v2-small")
    assert out == tmp_path / "models" / "depth-anything-v2-small"
    assert sorted(p.name for p in out.iterdir()) == ["model.safetensors"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["depth-anything-v2-small"]
    assert registry.local_folder("depth-anything-v2-small") == out


def test_cli_pull_without_network_is_one_line(tmp_path):
    # a refused port on loopback stands for "no network"
    env = {**os.environ, "PAINT2VR_CACHE": str(tmp_path / "cache"), "HF_HOME": str(tmp_path / "hf"),
           "HF_ENDPOINT": "http://127.0.0.1:9", "PYTHONPATH": str(ROOT)}
    env.pop("HF_HUB_OFFLINE", None)
    run = subprocess.run([sys.executable, "-m", "paint2vr.cli.main", "models", "pull", "depth-anything-v2-small"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert run.returncode == 3
    assert run.stdout == "" and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert run.stderr.startswith("paint2vr: error: could not download 'depth-anything-v2-small'")
    assert not (tmp_path / "cache").exists()

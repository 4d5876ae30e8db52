"""Regenerate tests/io/fixtures: a paint2vr GLB rewritten by glTF-Transform's CLI (npm
@gltf-transform/cli, a devDependency) with the extensions other tools write.

    PYTHONPATH=$PWD .venv/bin/python tests/io/make_fixtures.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "viewer"))

# name -> gltf-transform command (source.glb in, the name out)
COMMANDS = {
    "webp.glb": ["webp"],
    "meshopt.glb": ["meshopt"],
    "quantized.glb": ["quantize"],
    "draco.glb": ["draco"],
    "external.gltf": ["copy"],
}


def main() -> None:
    from paint2vr.export import save_scene
    from viewer_scenes import painting_scene

    out = HERE / "fixtures"
    out.mkdir(exist_ok=True)
    source = save_scene(painting_scene(), out / "source.glb")
    tool = ROOT / "node_modules" / ".bin" / "gltf-transform"
    for name, command in COMMANDS.items():
        subprocess.run([str(tool), command[0], str(source), str(out / name), *command[1:]], check=True,
                       capture_output=True)
    print("\n".join(sorted(p.name for p in out.iterdir())))


if __name__ == "__main__":
    main()

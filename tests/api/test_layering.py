"""The import layering of ARCHITECTURE.md, checked on the source: imports point downwards only."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "paint2vr"

LEVELS = {
    "errors": 0, "heap": 0, "io": 0, "config": 0, "color": 0, "border": 0, "painting": 0, "scene": 0, "texture": 0, "codecs": 0,
    "depth": 1, "lift": 1, "effects": 1, "samples": 1,
    "export": 2, "render": 2,
    "pipeline": 3, "edit": 3, "preview": 3, "__init__": 3, "__main__": 4,
    "cli": 4, "batch": 4, "viewer": 4, "studio": 4,
}
# Documented exceptions: Scene.save / Scene._repr_png_ import export and render lazily.
ALLOWED_UP = {("scene", "export"), ("scene", "render")}
# Within the stages, lift reads depth's DepthMap and samples writes its true depth with
# depth.files; within the output level, export's texture choice counts the start view's
# pixels with render's rasteriser (render imports nothing of export); no stage imports
# another otherwise.
ALLOWED_SIDEWAYS = {("lift", "depth"), ("samples", "depth"), ("export", "render")}


def _unit(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imported_units(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(PKG)
    here = list(rel.parts[:-1])  # the module's package, relative to paint2vr
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)] if node.level > 1 else here
                parts = base + (node.module.split(".") if node.module else [])
                if not parts:  # "from . import x" at the top of the package
                    parts = [a.name for a in node.names][:1]
            elif node.module and node.module.split(".")[0] == "paint2vr":
                parts = node.module.split(".")[1:] or [a.name for a in node.names][:1]
            else:
                continue
            out.add(parts[0])
        elif isinstance(node, ast.Import):
            for a in node.names:
                bits = a.name.split(".")
                if bits[0] == "paint2vr" and len(bits) > 1:
                    out.add(bits[1])
    return {u for u in out if u in LEVELS}


def test_every_module_has_a_level():
    units = {_unit(p) for p in PKG.rglob("*.py")}
    assert units <= set(LEVELS), f"modules missing from the layering table: {sorted(units - set(LEVELS))}"


def test_imports_point_downwards():
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        me = _unit(path)
        for other in _imported_units(path) - {me}:
            if (me, other) in ALLOWED_UP or (me, other) in ALLOWED_SIDEWAYS:
                continue
            if LEVELS[other] > LEVELS[me] or (LEVELS[other] == LEVELS[me] and LEVELS[me] in (1, 2)):
                bad.append(f"{path.relative_to(PKG.parent)} (level {LEVELS[me]}) imports {other} (level {LEVELS[other]})")
    assert not bad, "imports against ARCHITECTURE.md's layering:\n" + "\n".join(bad)


# Heavy libraries stay at the edge (ARCHITECTURE.md): the only modules that may import them.
HEAVY = {
    "torch": {"depth/runner.py", "depth/device_fit.py"},
    "transformers": {"depth/hub.py"},
    "huggingface_hub": {"depth/registry.py", "depth/hub.py"},
    "open3d": {"lift/points.py"},
    "ray": {"batch/ray_runner.py"},
    "pygltflib": {"export/gltf.py", "io/gltf_read.py"},
    "meshoptimizer": {"codecs/meshopt.py"},
}


def test_heavy_libraries_only_where_documented():
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                     else [])
            for name in names:
                top = name.split(".")[0]
                if top in HEAVY and rel not in HEAVY[top]:
                    bad.append(f"paint2vr/{rel} imports {name}")
    assert not bad, "heavy imports outside their documented modules:\n" + "\n".join(bad)

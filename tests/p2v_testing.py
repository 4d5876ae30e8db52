"""Helpers shared by the tests (imported by name: tests/ is on sys.path)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAINTINGS = (ROOT.parent / "shared" / "paintings").resolve()
VALIDATOR_SCRIPT = ROOT / "scripts" / "validate_gltf.mjs"


def validate_gltf(*paths: Path) -> list[dict]:
    """Run the Khronos glTF-Validator on files; returns one report per file.

    Fails (never skips) when node or the validator is missing: every GLB the tests write
    must be validated.
    """
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "gltf-validator" / "package.json").exists():
        pytest.fail("the Khronos glTF-Validator is missing: run scripts/test.sh (npm ci) first")
    out = subprocess.run([node, str(VALIDATOR_SCRIPT), *map(str, paths)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        pytest.fail(f"glTF validator crashed: {out.stderr[-2000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def assert_valid_gltf(*paths: Path, allow_warnings: bool = True) -> list[dict]:
    """Assert 0 validator errors (and, unless allowed, no warnings but unsupported extensions)."""
    reports = validate_gltf(*paths)
    assert len(reports) == len(paths)
    for rep in reports:
        issues = rep["issues"]
        errors = [m for m in issues["messages"] if m["severity"] == 0]
        assert issues["numErrors"] == 0, f"{rep['file']}: {json.dumps(errors[:5], indent=1)}"
        if not allow_warnings:
            warns = [m for m in issues["messages"] if m["severity"] == 1
                     and m["code"] != "UNSUPPORTED_EXTENSION"]
            assert not warns, f"{rep['file']}: {json.dumps(warns[:5], indent=1)}"
    return reports




def painting_paths() -> list[Path]:
    """The public-domain paintings in ../shared/paintings ([] when the folder is absent)."""
    if not PAINTINGS.is_dir():
        return []
    return sorted(p for p in PAINTINGS.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"})

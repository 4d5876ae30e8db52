"""Helpers shared by the tests (imported by name: tests/ is on sys.path)."""

from __future__ import annotations

import json
import shutil
import struct
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


def _gltf_json(path: Path) -> dict:
    data = Path(path).read_bytes()
    if data[:4] == b"glTF":
        (length,) = struct.unpack_from("<I", data, 12)
        return json.loads(data[20:20 + length])
    return json.loads(data)


def _ktx2_image_pointers(path: Path) -> set[str]:
    """JSON pointers of the file's KTX2 images (KHR_texture_basisu), which the validator
    (2.0.0-dev.3.10) does not know: it warns that their MIME type and format are unknown."""
    images = _gltf_json(path).get("images", [])
    return {f"/images/{i}" for i, im in enumerate(images) if im.get("mimeType") == "image/ktx2"}


def _unsupported_only(message: dict, ktx2: set[str]) -> bool:
    if message["code"] == "UNSUPPORTED_EXTENSION":
        return True
    pointer = message.get("pointer", "")
    return message["code"] in ("VALUE_NOT_IN_LIST", "IMAGE_UNRECOGNIZED_FORMAT") and (
        pointer in ktx2 or pointer.rsplit("/mimeType", 1)[0] in ktx2)


def assert_valid_gltf(*paths: Path, allow_warnings: bool = True) -> list[dict]:
    """Assert 0 validator errors (and, unless allowed, no warnings but unsupported extensions:
    KTX2 images, which this validator does not recognise, are one)."""
    reports = validate_gltf(*paths)
    assert len(reports) == len(paths)
    for path, rep in zip(paths, reports):
        issues = rep["issues"]
        errors = [m for m in issues["messages"] if m["severity"] == 0]
        assert issues["numErrors"] == 0, f"{rep['file']}: {json.dumps(errors[:5], indent=1)}"
        ktx2 = _ktx2_image_pointers(path)
        warns = [m for m in issues["messages"] if m["severity"] == 1 and not _unsupported_only(m, ktx2)]
        if not allow_warnings:
            assert not warns, f"{rep['file']}: {json.dumps(warns[:5], indent=1)}"
    return reports




def painting_paths() -> list[Path]:
    """The public-domain paintings in ../shared/paintings ([] when the folder is absent)."""
    if not PAINTINGS.is_dir():
        return []
    return sorted(p for p in PAINTINGS.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"})


def reproducible_env(**extra: str) -> dict[str, str]:
    """``os.environ`` with numpy's and torch's SIMD dispatch held at AVX2, for child processes
    whose bytes are compared with recorded ones (scene hashes) or which train a model.

    numpy and torch choose their kernels by CPU, and their AVX-512 kernels round float sums
    differently from the AVX2 ones: the same code made other bytes, and trained another model,
    on an AVX-512 machine. Every x86-64 CI machine has AVX2."""
    import os

    from numpy._core._multiarray_umath import __cpu_features__ as found

    env = dict(os.environ, ATEN_CPU_CAPABILITY="avx2", MKL_ENABLE_INSTRUCTIONS="AVX2", ONEDNN_MAX_CPU_ISA="AVX2",
               **extra)
    above = [f for f in ("X86_V4", "AVX512_SKX", "AVX512_CLX", "AVX512_CNL", "AVX512_ICL", "AVX512_SPR")
             if found.get(f)]
    if above:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(above)
    return env

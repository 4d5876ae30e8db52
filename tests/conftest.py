"""Shared fixtures: paths, the Khronos glTF validator, the real paintings."""

from __future__ import annotations

from pathlib import Path

import pytest

from p2v_testing import PAINTINGS, ROOT, assert_valid_gltf, painting_paths, validate_gltf  # noqa: F401


@pytest.fixture
def gltf_validator():
    """The validator as a fixture: ``gltf_validator(path, ...)`` asserts 0 errors."""
    return assert_valid_gltf


@pytest.fixture(scope="session")
def shared_paintings() -> list[Path]:
    """The public-domain paintings in ../shared/paintings (skips when the folder is absent)."""
    paths = painting_paths()
    if not paths:
        pytest.skip(f"no real paintings: {PAINTINGS} is absent (it is always there in CI)")
    return paths

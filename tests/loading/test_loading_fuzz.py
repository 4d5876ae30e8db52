"""Property-based fuzzing of load_painting: damaged files give a Painting or ImageLoadError only.

Bounded: derandomized (same examples every run), ~150 examples per property, a 1 MP pixel
limit so a mutated header cannot make a test allocate much.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from paint2vr.errors import ImageLoadError
from paint2vr.painting import LoadOptions, Painting, load_painting

from loading_corpus import asymmetric_rgb

OPTIONS = LoadOptions(max_pixels=1_000_000, max_side=256)
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _seed(fmt: str, mode: str = "RGB", **kw) -> bytes:
    img = Image.fromarray(asymmetric_rgb(12, 20))
    if mode != "RGB":
        img = img.convert(mode)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


SEEDS = {
    "png": _seed("PNG"),
    "png_rgba": _seed("PNG", "RGBA"),
    "jpeg": _seed("JPEG", quality=80),
    "jpeg_cmyk": _seed("JPEG", "CMYK"),
    "webp": _seed("WEBP"),
    "webp_lossless": _seed("WEBP", lossless=True),
    "tiff": _seed("TIFF"),
    "tiff_lzw": _seed("TIFF", compression="tiff_lzw"),
    "gif": _seed("GIF", "P"),
    "bmp": _seed("BMP"),
}


def mutated(data: bytes, cut: int | None, flips: list[tuple[int, int]], insert: bytes) -> bytes:
    out = bytearray(data)
    for pos, bit in flips:
        out[pos % len(out)] ^= 1 << bit
    if insert:
        at = (flips[0][0] if flips else len(out) // 2) % len(out)
        out[at:at] = insert
    if cut is not None:
        out = out[: cut % (len(out) + 1)]
    return bytes(out)


def check(path) -> None:
    try:
        p = load_painting(path, options=OPTIONS)
    except ImageLoadError as exc:
        assert "\n" not in str(exc) and exc.hint
        return
    assert isinstance(p, Painting)
    assert p.rgb.dtype == np.uint8 and p.rgb.ndim == 3 and p.rgb.shape[2] == 3
    assert max(p.rgb.shape[:2]) <= OPTIONS.max_side
    assert p.alpha is None or (p.alpha.dtype == bool and p.alpha.shape == p.rgb.shape[:2])


@pytest.fixture
def fuzz_file(tmp_path):
    return tmp_path / "fuzz.img"


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)), cut=st.none() | st.integers(0, 10**6),
       flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)), max_size=8),
       insert=st.binary(max_size=16))
def test_mutated_valid_files(fuzz_file, seed, cut, flips, insert):
    fuzz_file.write_bytes(mutated(SEEDS[seed], cut, flips, insert))
    check(fuzz_file)


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)), header=st.integers(1, 64),
       flips=st.lists(st.tuples(st.integers(0, 63), st.integers(0, 7)), min_size=1, max_size=4))
def test_header_bit_flips(fuzz_file, seed, header, flips):
    """Headers hold sizes, offsets and counts: the likeliest place for a crash."""
    data = SEEDS[seed]
    fuzz_file.write_bytes(mutated(data, None, [(p % min(header, len(data)), b) for p, b in flips], b""))
    check(fuzz_file)


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=2048),
       magic=st.sampled_from([b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP",
                              b"II*\0", b"MM\0*", b"GIF89a", b"BM"]))
def test_random_bytes_behind_real_magic(fuzz_file, data, magic):
    fuzz_file.write_bytes(magic + data)
    check(fuzz_file)


def test_seeds_themselves_load(tmp_path):
    for name, data in SEEDS.items():
        path = tmp_path / f"{name}.img"
        path.write_bytes(data)
        p = load_painting(path, options=OPTIONS)
        assert p.rgb.shape == (12, 20, 3), name

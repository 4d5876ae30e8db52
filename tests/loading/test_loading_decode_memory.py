"""Images within the pixel limit that would still cost gigabytes to decode (issue 19, item 10):
tiny hostile files built here, loaded in a subprocess whose peak memory (VmHWM) is measured."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from paint2vr.painting import DEFAULT_LOAD_OPTIONS, LoadOptions, decode_bytes, load_painting

ROOT = Path(__file__).resolve().parents[2]
PEAK_LIMIT_MB = 600  # the whole process, Python and numpy included: well under 2 GB


def gif_with_huge_screen(path: Path, w: int, h: int) -> Path:
    """A 1x1 GIF whose logical screen says w x h (Pillow allocates the whole screen)."""
    buf = io.BytesIO()
    Image.new("P", (1, 1)).save(buf, "GIF")
    data = bytearray(buf.getvalue())
    data[6:10] = struct.pack("<HH", w, h)
    path.write_bytes(bytes(data))
    return path


def jpeg_claiming(path: Path, w: int, h: int) -> Path:
    """A tiny JPEG whose SOF0 header is patched to claim w x h."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 100, 50)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", h, w)
    path.write_bytes(bytes(data))
    return path


def webp_claiming(path: Path, w: int, h: int) -> Path:
    """A 1x1 lossless WebP whose VP8L header is patched to claim w x h."""
    buf = io.BytesIO()
    Image.new("RGB", (1, 1), (10, 20, 30)).save(buf, "WEBP", lossless=True)
    data = bytearray(buf.getvalue())
    at = data.find(b"VP8L") + 8
    bits = int.from_bytes(data[at + 1:at + 5], "little")
    bits = (bits & ~((1 << 28) - 1)) | (w - 1) | ((h - 1) << 14)
    data[at + 1:at + 5] = bits.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def png16_grey(path: Path, w: int, h: int) -> Path:
    """A real (complete, valid) 16-bit greyscale PNG of w x h, all black: a few MB."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    comp = zlib.compressobj(9)
    row = bytes(1 + 2 * w)
    parts = [comp.compress(row) for _ in range(h)] + [comp.flush()]
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0))
           + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
    path.write_bytes(png)
    return path


MEASURE = """
import json, resource, sys
from paint2vr.errors import ImageLoadError
from paint2vr.painting import load_painting
try:
    p = load_painting(sys.argv[1])
    out = {"loaded": list(p.rgb.shape)}
except ImageLoadError as exc:
    out = {"refused": str(exc)}
# VmHWM: this program's own peak (ru_maxrss can carry the forking parent's peak across exec)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
out["peak_mb"] = (int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
print(json.dumps(out))
"""


def _load_in_subprocess(path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("hostile")
    return {"gif": gif_with_huge_screen(d / "screen.gif", 19000, 19000),
            "jpeg": jpeg_claiming(d / "claims.jpg", 19000, 19000),
            "webp": webp_claiming(d / "claims.webp", 16383, 16383),
            "png16": png16_grey(d / "grey16.png", 20000, 20000)}


@pytest.mark.parametrize("kind", ["gif", "webp", "png16"])
def test_hostile_images_are_refused_before_decoding_in_bounded_memory(hostile, kind):
    path = hostile[kind]
    assert path.stat().st_size < 5_000_000
    out = _load_in_subprocess(path)
    assert "would need about" in out.get("refused", ""), out
    assert out["peak_mb"] < PEAK_LIMIT_MB, out


def test_jpeg_claiming_19000_squared_decodes_at_reduced_scale_in_bounded_memory(hostile):
    # JPEG decodes at 1/2 scale (draft mode) and stays within the decode limit; the whole
    # process peaks near 1 GB (the 9500^2 decode, Lanczos' intermediate pass, the result)
    out = _load_in_subprocess(hostile["jpeg"])
    assert out["peak_mb"] < 1200, out
    assert out.get("loaded", [0])[0] <= DEFAULT_LOAD_OPTIONS.max_side or "refused" in out, out


def test_decode_estimate_and_the_limit_option(tmp_path):
    # a legitimate large JPEG (20000^2 after draft to 1/2) stays within the default limit
    assert decode_bytes("RGB", (10000, 10000), 8192) < DEFAULT_LOAD_OPTIONS.max_decode_bytes
    assert decode_bytes("P", (19000, 19000), 8192) > DEFAULT_LOAD_OPTIONS.max_decode_bytes
    small = tmp_path / "s.png"
    Image.new("RGB", (300, 200)).save(small)
    assert load_painting(small).rgb.shape == (200, 300, 3)
    from paint2vr.errors import ImageLoadError
    with pytest.raises(ImageLoadError, match="max-decode-bytes"):
        load_painting(small, options=LoadOptions(max_decode_bytes=100_000))

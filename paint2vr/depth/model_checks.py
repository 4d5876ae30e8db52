"""Checks of a model folder before a model is built from it: hostile or broken folders are
refused with one line (ModelError), not a traceback, and never cost gigabytes.

What is checked (docs/security.md lists the limits):

* ``config.json`` and ``preprocessor_config.json``: at most ``MAX_JSON_BYTES``, nested at most
  ``MAX_JSON_DEPTH``; every size-like number (hidden sizes, layer and head counts, image and
  patch sizes, lists of them) a positive integer within its bound, nested configs too; the
  parameter count the config implies at most ``MAX_PARAMETERS``.
* the preprocessor's input size at most ``MAX_INPUT_SIDE`` pixels.
* every ``*.safetensors``: a regular file inside the folder (a symlink out of it is refused),
  a well-formed header whose tensors lie within the file, and at least one tensor.
* after loading: weights the architecture expects but the file lacks are an error (transformers
  would initialise them at random and only warn).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any, Iterator

from ..errors import ModelError
from ..io.reading import parse_json_bounded

MAX_JSON_BYTES = 1_000_000
"""Largest config.json / preprocessor_config.json read."""
MAX_JSON_DEPTH = 16
"""Deepest nesting of objects/arrays in those files."""
MAX_INPUT_SIDE = 2048
"""Largest model input side (the preprocessor's size); real depth models use 384-1536."""
MAX_PARAMETERS = 2_000_000_000
"""Most parameters a config may imply (the largest depth models have about 1.3 billion)."""
MAX_HEADER_BYTES = 100_000_000
"""Largest safetensors JSON header."""
SIZE_BOUNDS = {
    "hidden_size": 16384, "intermediate_size": 65536, "num_hidden_layers": 256, "num_attention_heads": 256,
    "num_layers": 256, "depth": 256, "image_size": 4096, "patch_size": 64, "num_channels": 16,
    "reassemble_hidden_size": 16384, "fusion_hidden_size": 16384, "head_hidden_size": 16384,
    "neck_hidden_sizes": 16384, "hidden_sizes": 16384, "depths": 256, "embed_dim": 16384,
    "num_heads": 256, "decoder_hidden_size": 16384, "mlp_ratio": 64, "reassemble_factors": 64,
    "num_key_value_heads": 256, "window_size": 4096,
}
"""Upper bound of each size-like config field (lists: of each element)."""
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
                "BOOL": 1, "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1}


def _refuse(folder: Path | str, what: str, hint: str | None = None) -> ModelError:
    return ModelError(f"{folder}: {what}", hint=hint or "the model folder is damaged or not a depth model: "
                                                        "pull it again ('paint2vr models pull NAME')")


def read_json_file(path: Path, folder: Path) -> dict[str, Any]:
    """A model folder's JSON file as a dict, bounded in size and depth (ModelError if not)."""
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise _refuse(folder, f"{path.name} is {size} bytes, over the limit of {MAX_JSON_BYTES}")
        doc = parse_json_bounded(path.read_bytes(), MAX_JSON_DEPTH)
    except (OSError, ValueError) as exc:
        raise _refuse(folder, f"cannot read {path.name} ({' '.join(str(exc).split())[:160]})") from None
    if not isinstance(doc, dict):
        raise _refuse(folder, f"{path.name} is not a JSON object")
    return doc


def _walk(doc: Any, where: str) -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every entry of nested dicts (lists of dicts included)."""
    stack = [(doc, where)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                yield f"{at}.{k}", str(k), v
                if isinstance(v, (dict, list)):
                    stack.append((v, f"{at}.{k}"))
        elif isinstance(node, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(node) if isinstance(v, (dict, list)))


def _positive_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return isinstance(value, int) and value > 0


def implied_parameters(doc: dict[str, Any]) -> int:
    """A generous estimate of the parameters of every transformer stack a config describes:
    layers x (4 H^2 attention + 2 H I feed-forward), over the config and its nested configs."""
    total = 0
    for _, _, node in [("", "", doc), *_walk(doc, "config")]:
        if not isinstance(node, dict):
            continue
        h, n = node.get("hidden_size"), node.get("num_hidden_layers")
        if _positive_int(h) and _positive_int(n):
            inter = node.get("intermediate_size")
            i = int(inter) if _positive_int(inter) else 4 * int(h)
            total += int(n) * (4 * int(h) ** 2 + 2 * int(h) * i)
    return total


def check_config(doc: dict[str, Any], folder: Path | str) -> None:
    """Refuse absurd size values and configs that imply more than MAX_PARAMETERS parameters."""
    for at, key, value in _walk(doc, "config"):
        bound = SIZE_BOUNDS.get(key)
        if bound is None or value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if key in ("mlp_ratio", "reassemble_factors"):  # fractions: Depth Anything's last factor is 0.5
            ok = all(not isinstance(v, bool) and isinstance(v, (int, float)) and 0 < v <= bound for v in values)
        else:
            ok = all(_positive_int(v) and v <= bound for v in values)
        if not ok:
            raise _refuse(folder, f"{at} = {value!r} is not a size this loader accepts "
                                  f"(a positive integer up to {bound})")
    params = implied_parameters(doc)
    if params > MAX_PARAMETERS:
        raise _refuse(folder, f"the config implies about {params:,} parameters, over the limit of "
                              f"{MAX_PARAMETERS:,}")


def check_preprocessor(doc: dict[str, Any], folder: Path | str) -> None:
    """Refuse a preprocessor input size over MAX_INPUT_SIDE (or not a positive integer)."""
    for key in ("size", "crop_size"):
        size = doc.get(key)
        if size is None:
            continue
        values = [v for k, v in size.items() if k in ("height", "width", "shortest_edge", "longest_edge")] \
            if isinstance(size, dict) else [size]
        if not values or not all(_positive_int(v) and v <= MAX_INPUT_SIDE for v in values):
            raise _refuse(folder, f"preprocessor_config.json {key} = {size!r}: the input size must be "
                                  f"positive integers up to {MAX_INPUT_SIDE} pixels")


def check_safetensors(path: Path, folder: Path) -> int:
    """Number of tensors in a safetensors file inside ``folder``; ModelError if it is a link
    out of the folder, not a regular file, or its header or data are damaged."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(Path(os.path.realpath(folder))):
        raise _refuse(folder, f"{path.name} is a link to {real}, outside the model folder",
                      "model files must be inside the folder; copy the weights in")
    if not real.is_file():
        raise _refuse(folder, f"{path.name} is not a regular file")
    size = real.stat().st_size
    try:
        with open(real, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ValueError("shorter than its 8-byte header length")
            n = struct.unpack("<Q", head)[0]
            if n > min(MAX_HEADER_BYTES, size - 8):
                raise ValueError(f"header length {n} does not fit the file ({size} bytes)")
            header = parse_json_bounded(fh.read(n), 4)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise _refuse(folder, f"{path.name} is not a valid safetensors file ({exc})") from None
    if not isinstance(header, dict):
        raise _refuse(folder, f"{path.name}: the safetensors header is not an object")
    data = size - 8 - n
    count = 0
    for name, t in header.items():
        if name == "__metadata__":
            continue
        ok = (isinstance(t, dict) and t.get("dtype") in _DTYPE_BYTES and isinstance(t.get("shape"), list)
              and isinstance(t.get("data_offsets"), list) and len(t["data_offsets"]) == 2
              and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in t["data_offsets"])
              and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in t["shape"]))
        if not ok:
            raise _refuse(folder, f"{path.name}: tensor {str(name)[:80]!r} has a malformed header entry")
        start, end = t["data_offsets"]
        expect = _DTYPE_BYTES[t["dtype"]]
        for d in t["shape"]:
            expect *= d
        if end > data or end - start != expect:
            raise _refuse(folder, f"{path.name} is truncated or damaged (tensor {str(name)[:80]!r} lies "
                                  f"outside its {data} data bytes)")
        count += 1
    return count


def check_model_folder(folder: Path) -> None:
    """All the checks that can run on a local folder before any model is built."""
    check_config(read_json_file(folder / "config.json", folder), folder)
    pre = folder / "preprocessor_config.json"
    if pre.exists():
        check_preprocessor(read_json_file(pre, folder), folder)
    weights = sorted(folder.rglob("*.safetensors"))
    if sum(check_safetensors(w, folder) for w in weights) == 0:
        raise _refuse(folder, "the safetensors weights hold no tensors", "missing weights are an error: pull the "
                                                                        "model again ('paint2vr models pull NAME')")


def check_loading_info(label: str, info: dict[str, Any]) -> None:
    """Refuse a model whose checkpoint lacked weights the architecture needs (transformers
    initialises them at random and only logs a warning)."""
    missing = list(info.get("missing_keys") or [])
    mismatched = list(info.get("mismatched_keys") or [])
    if missing or mismatched:
        names = ", ".join(str(k) for k in (missing + mismatched)[:3])
        raise ModelError(f"{label}: the weights do not match the model: {len(missing)} missing, "
                         f"{len(mismatched)} of the wrong shape (for example {names})",
                         hint="missing weights are an error, not a warning: pull the model again")


def load_error(label: str, exc: BaseException) -> ModelError:
    """One line for any failure while building the model from its config and weights."""
    text = " ".join(str(exc).split())[:200]
    return ModelError(f"{label}: cannot build the model from its files ({type(exc).__name__}: {text})",
                      hint="config.json or the weights are damaged, truncated or do not match: pull the model again")


__all__ = ["MAX_INPUT_SIDE", "MAX_JSON_DEPTH", "MAX_PARAMETERS", "check_config", "check_loading_info",
           "check_model_folder", "check_preprocessor", "check_safetensors", "implied_parameters", "load_error",
           "read_json_file"]

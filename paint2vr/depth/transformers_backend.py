"""Learned depth through Hugging Face ``transformers`` (AutoModelForDepthEstimation).

Works with any checkpoint that class loads: Depth Anything (V1/V2, relative and metric),
DPT / MiDaS, ZoeDepth, Depth Pro, GLPN. The only module of paint2vr that imports torch.

Safety: weights are loaded with ``use_safetensors=True`` and ``trust_remote_code=False``; a
folder holding only pickled weights (``pytorch_model.bin``, ``.pt``, ``.ckpt``, ``.pth``) is
refused with :class:`UnsafeModelError` because unpickling runs arbitrary code.

Offline: with ``HF_HUB_OFFLINE`` set, or no route to the hub, a model that is neither a local
folder nor in the cache fails at once with :class:`ModelNotFoundError` naming
``paint2vr models pull NAME``.

Resizing (never squashing): each painting is scaled so its *short* side equals the model's
input size, the long side is capped at ``max_aspect`` times that (very elongated paintings
are then seen at a lower resolution rather than tiled), and the result is padded at the
bottom/right by edge replication up to a multiple of the model's patch size
(``ensure_multiple_of`` / ``size_divisor`` / the backbone's patch size). The padding is
cropped from the output, which is upsampled bilinearly to the painting's full resolution.
Depth Pro needs a fixed square input: the painting is letterboxed into it instead.

Relative -> metric: relative models output disparity-like values d (larger = nearer). We
assume ``d = a / z + b`` and fix a, b so that the 98th / 2nd percentiles of d over land map
to the 2nd / 98th percentiles of the built-in prior's depth (the ground plane seen from eye
height); depth is then ``z = a / (d - b)``, clipped to [near / 2, far]. The result is marked
``metric=False``. Metric models' metres are used as they are (``metric=True``).

Sky: models have no sky output. Sky = low-disparity pixels connected to the top edge, joined
with the prior's sky detection where the model also sees the region as far.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from ..errors import InputError, ModelError, ModelNotFoundError, UnsafeModelError
from .base import DepthMap, ModelInfo
from .prior import PriorEstimator, _check_rgb, _edge_strength

log = logging.getLogger(__name__)

PICKLE_SUFFIXES = (".bin", ".pt", ".ckpt", ".pth", ".pkl")


@dataclass(frozen=True)
class TransformersOptions:
    """Options of :class:`TransformersEstimator`."""

    device: str = "auto"
    """'auto' (cuda, then mps, then cpu), 'cpu', 'cuda', 'cuda:N' or 'mps'."""
    batch_size: int = 4
    """Paintings per forward pass (paintings of the same padded size are batched together)."""
    fp16: bool = True
    """Half precision on CUDA (ignored on CPU and MPS)."""
    input_size: int | None = None
    """Short side the model sees; None: from the registry or the model's preprocessor."""
    max_aspect: float = 4.0
    """Cap the long side at this many times the input size."""
    kind: str | None = None
    """'relative' or 'metric'; None: from the registry or the model's config."""


DEFAULT_TRANSFORMERS_OPTIONS = TransformersOptions()


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _hub_reachable(timeout: float = 1.5) -> bool:
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def check_folder(folder: Path) -> None:
    """Refuse folders without config or with pickled weights only."""
    if not (folder / "config.json").is_file():
        raise ModelNotFoundError(f"{folder}: no config.json, not a transformers model folder",
                                 hint="give a folder made by save_pretrained or 'paint2vr models pull NAME'")
    files = [p for p in folder.rglob("*") if p.is_file()]
    if not any(p.suffix == ".safetensors" for p in files):
        pickled = [p.name for p in files if p.suffix in PICKLE_SUFFIXES]
        if pickled:
            raise UnsafeModelError(
                f"{folder}: only pickled weights ({', '.join(sorted(pickled))}); refusing to load them",
                hint="loading pickle files can run arbitrary code; convert the checkpoint to safetensors "
                     "(save_pretrained(..., safe_serialization=True)) or pull the model's safetensors")
        raise ModelNotFoundError(f"{folder}: no *.safetensors weights", hint="the folder is incomplete")


def pick_device(device: str) -> str:
    import torch
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if device.split(":")[0] not in ("cpu", "cuda", "mps"):
        raise InputError(f"unknown device {device!r}", hint="use auto, cpu, cuda, cuda:N or mps")
    return device


class TransformersEstimator:
    """A transformers depth model behind the :class:`DepthEstimator` interface."""

    def __init__(self, source: str | os.PathLike[str], *, revision: str = "main", info: ModelInfo | None = None,
                 options: TransformersOptions = DEFAULT_TRANSFORMERS_OPTIONS, pull_name: str | None = None) -> None:
        if options.batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {options.batch_size}")
        self.options = options
        src = str(source)
        local = Path(src).is_dir()
        label = pull_name or src
        if local:
            check_folder(Path(src))
        try:
            import torch
            from transformers import AutoConfig, AutoModelForDepthEstimation
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise ModelError(f"transformers/torch are needed for learned depth ({exc})") from None
        kw = dict(revision=None if local else revision, trust_remote_code=False)
        only_local = local or _offline()
        fetch = f"paint2vr models pull {label}" if pull_name else "paint2vr models pull NAME (or a local folder)"
        try:
            self.config = AutoConfig.from_pretrained(src, local_files_only=True, **kw)
        except (OSError, ValueError) as exc:
            if only_local or not _hub_reachable():
                why = "HF_HUB_OFFLINE is set" if _offline() else ("not found" if local else "no network")
                raise ModelNotFoundError(f"depth model {label!r} is not available locally ({why})",
                                         hint=f"fetch it with '{fetch}'") from None
            try:
                self.config = AutoConfig.from_pretrained(src, **kw)
            except (OSError, ValueError) as exc2:
                raise ModelNotFoundError(f"depth model {label!r} could not be loaded ({exc2})",
                                         hint=f"fetch it with '{fetch}'") from None
            only_local = False
            del exc
        try:
            self.model = AutoModelForDepthEstimation.from_pretrained(
                src, use_safetensors=True, local_files_only=only_local, **kw)
        except (OSError, ValueError, EnvironmentError) as exc:
            raise UnsafeModelError(f"{label}: could not load safetensors weights ({exc})",
                                   hint="only safetensors checkpoints are accepted") from None
        self.proc = _processor_config(src, local, revision, only_local)
        if not self.proc:
            log.warning("%s: no preprocessor_config.json; using ImageNet mean/std", label)
        self.device = pick_device(options.device)
        self.dtype = torch.float16 if (self.device.startswith("cuda") and options.fp16) else torch.float32
        self.model.to(self.device, dtype=self.dtype).eval()
        mt = getattr(self.config, "model_type", "")
        self.fixed_square = mt == "depth_pro"
        if options.kind is not None:
            self.kind = options.kind
        elif getattr(self.config, "depth_estimation_type", None) == "metric" or mt in ("zoedepth", "depth_pro", "glpn"):
            self.kind = "metric"
        else:
            self.kind = "relative"
        if self.kind not in ("relative", "metric"):
            raise InputError(f"kind must be 'relative' or 'metric', got {self.kind!r}")
        self.multiple = int(self.proc.get("ensure_multiple_of") or self.proc.get("size_divisor")
                            or self.proc.get("size_divisibility") or self._patch_size() or 14)
        self.input_size = int(options.input_size or self._proc_size() or 518)
        self.info = info or ModelInfo(name=src, revision=revision if not local else "local",
                                      license="unknown", commercial=False)
        self._prior = PriorEstimator()

    def _patch_size(self) -> int | None:
        for cfg in (self.config, getattr(self.config, "backbone_config", None)):
            p = getattr(cfg, "patch_size", None)
            if isinstance(p, int):
                return p
        return None

    def _proc_size(self) -> int | None:
        s = self.proc.get("size")
        if isinstance(s, dict):
            vals = [v for k, v in s.items() if k in ("height", "width", "shortest_edge") and v]
            return int(min(vals)) if vals else None
        return int(s) if isinstance(s, int) else None

    # -- preprocessing -----------------------------------------------------------------
    def _prepare(self, rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """-> (padded float32 (3, H', W') input, (valid height, valid width))."""
        h, w = rgb.shape[:2]
        S = self.input_size
        if self.fixed_square:
            s = S / max(h, w)
        else:
            s = S / min(h, w)
            if max(h, w) * s > self.options.max_aspect * S:
                s = self.options.max_aspect * S / max(h, w)
        nh, nw = max(1, round(h * s)), max(1, round(w * s))
        img = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
        m = self.multiple
        th, tw = (S, S) if self.fixed_square else (-(-nh // m) * m, -(-nw // m) * m)
        img = cv2.copyMakeBorder(img, 0, th - nh, 0, tw - nw, cv2.BORDER_REPLICATE)
        x = img.astype(np.float32)
        if self.proc.get("do_rescale", True) is not False:
            x /= 255.0
        if self.proc.get("do_normalize", True) is not False:
            mean = np.asarray(self.proc.get("image_mean") or (0.485, 0.456, 0.406), np.float32)
            std = np.asarray(self.proc.get("image_std") or (0.229, 0.224, 0.225), np.float32)
            x = (x - mean) / std
        return np.ascontiguousarray(x.transpose(2, 0, 1)), (nh, nw)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        import torch
        with torch.inference_mode():
            t = torch.from_numpy(batch).to(self.device, dtype=self.dtype)
            out = self.model(pixel_values=t).predicted_depth
            if out.ndim == 4:
                out = out[:, 0]
            return out.float().cpu().numpy()

    def raw(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Model output per image at full resolution (disparity or metres), float32."""
        prepared = []
        for img in images:
            _check_rgb(img)
            prepared.append(self._prepare(img))
        groups: dict[tuple[int, int], list[int]] = {}
        for i, (x, _) in enumerate(prepared):
            groups.setdefault(x.shape[1:], []).append(i)
        outs: list[np.ndarray | None] = [None] * len(images)
        bs = self.options.batch_size
        for shape, idx in groups.items():
            for k in range(0, len(idx), bs):
                chunk = idx[k:k + bs]
                pred = self._forward(np.stack([prepared[i][0] for i in chunk]))
                for i, p in zip(chunk, pred):
                    (nh, nw) = prepared[i][1]
                    if p.shape != shape:
                        p = cv2.resize(p, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
                    p = p[:nh, :nw]
                    h, w = images[i].shape[:2]
                    outs[i] = cv2.resize(np.ascontiguousarray(p), (w, h), interpolation=cv2.INTER_LINEAR)
        return [o for o in outs]  # type: ignore[misc]

    def estimate(self, images: Sequence[np.ndarray]) -> list[DepthMap]:
        return [self._to_depth(img, r) for img, r in zip(images, self.raw(images))]

    # -- postprocessing -----------------------------------------------------------------
    def _to_depth(self, rgb: np.ndarray, raw: np.ndarray) -> DepthMap:
        prior = self._prior.estimate_one(rgb)
        po = self._prior.options
        raw = np.nan_to_num(raw.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        disp = raw if self.kind == "relative" else 1.0 / np.maximum(raw, 1e-3)
        sky = derive_sky(disp, prior.sky)
        land = ~sky if (~sky).any() else np.ones_like(sky)
        if self.kind == "relative":
            pl = prior.depth[~prior.sky] if (~prior.sky).any() else prior.depth.ravel()
            near, far = float(np.percentile(pl, 2)), float(np.percentile(pl, 98))
            far = max(far, near * 1.5)
            d_lo, d_hi = np.percentile(disp[land], [2, 98])
            if d_hi - d_lo < 1e-9:
                depth = np.full(disp.shape, (near + far) / 2)
            else:
                a = (d_hi - d_lo) / (1.0 / near - 1.0 / far)
                b = d_lo - a / far
                depth = a / np.maximum(disp - b, a / far)
            depth = np.clip(depth, near / 2, far)
        else:
            depth = np.clip(raw, 0.05, None)
        land_max = float(depth[land].max())
        sky_depth = max(po.sky_depth, 2.0 * land_max)
        depth = np.where(sky, sky_depth, depth).astype(np.float32)
        edges = _edge_strength(np.log(depth))
        return DepthMap(depth=depth, sky=sky, metric=self.kind == "metric", model=self.info,
                        confidence=(1.0 - 0.5 * edges).astype(np.float32), edges=edges,
                        extras={"kind": self.kind, "input_size": self.input_size})


def _processor_config(src: str, local: bool, revision: str, only_local: bool) -> dict:
    """The model's preprocessor_config.json as a dict (read directly: our own preprocessing
    only needs size, mean/std and the size multiple)."""
    try:
        if local:
            path = Path(src) / "preprocessor_config.json"
        else:
            from huggingface_hub import hf_hub_download
            path = Path(hf_hub_download(src, "preprocessor_config.json", revision=revision,
                                        local_files_only=only_local))
        return json.loads(path.read_text())
    except Exception as exc:  # any failure means "no processor config": defaults apply
        log.debug("no preprocessor config for %s: %s", src, exc)
        return {}


def derive_sky(disp: np.ndarray, prior_sky: np.ndarray) -> np.ndarray:
    """Sky from a disparity map: near-zero disparity connected to the top edge, joined with
    the prior's sky where the model also sees far (below-median disparity)."""
    h, w = disp.shape
    lo, hi = float(disp.min()), float(np.percentile(disp, 98))
    low = disp <= lo + 0.03 * max(hi - lo, 1e-12)
    cand = (low | (prior_sky & (disp < np.median(disp)))).astype(np.uint8)
    n, labels = cv2.connectedComponents(cand, connectivity=4)
    top = np.unique(labels[0][cand[0] > 0])
    sky = np.isin(labels, top[top > 0])
    if sky.mean() < 0.005 or sky.all():
        sky[:] = False
    return sky


def read_model_json(folder: Path) -> dict:
    """config.json of a local folder (for listings)."""
    try:
        return json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return {}


__all__ = ["TransformersEstimator", "TransformersOptions", "DEFAULT_TRANSFORMERS_OPTIONS", "check_folder",
           "derive_sky", "pick_device", "math"]

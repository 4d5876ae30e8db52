"""Options of the learned depth models (:mod:`.transformers_backend`), importable without torch,
and their check, made before any weights load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..config import check_options, opt
from ..errors import OptionError
from .scale import DEFAULT_SCALE_OPTIONS, ScaleOptions

DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:[0-9]+)?)$")


@dataclass(frozen=True)
class TransformersOptions:
    """Options of :class:`TransformersEstimator`."""

    device: str = opt("auto", flag="device")
    """'auto' (cuda, then mps, then cpu), 'cpu', 'cuda', 'cuda:N' or 'mps'."""
    batch_size: int = opt(4, ge=1, le=4096)
    """Paintings per forward pass (paintings of the same padded size are batched together)."""
    fp16: bool = True
    """Half precision on CUDA (ignored on CPU and MPS)."""
    input_size: int | None = opt(None, ge=14, le=8192)
    """Short side the model sees; None: from the registry or the model's preprocessor."""
    max_aspect: float = opt(4.0, ge=1.0, le=64.0)
    """Cap the long side at this many times the input size."""
    kind: Literal["relative", "metric"] | None = None
    """'relative' or 'metric'; None: from the registry or the model's config."""
    prior_side: int = opt(0, ge=0, le=4096)
    """Long side (px) of a small prior run giving the depth range and a sky hint (128 is a good
    size; it costs ~15 ms of CPU per painting, 4x below an H100's model throughput); 0: the
    prior's default near/far and no sky hint (no prior work per painting)."""
    fit_side: int = opt(192, ge=8, le=4096)
    """Long side (px, about) of the map the sky and the metric fit are computed on."""
    pinned_outputs: bool = False
    """CUDA: the DepthMaps' model-resolution crops stay in the page-locked batch buffer they
    were copied into (no host copy; but a batch's buffer stays page-locked, in torch's host
    cache, for as long as any of its maps is still lazy)."""
    host_threads: int = opt(0, ge=0, le=256)
    """Threads for per-painting host work (pinning, small prior, fits, building DepthMaps);
    0: up to 8, one per CPU core."""
    scale: ScaleOptions = DEFAULT_SCALE_OPTIONS
    """How a relative model's output gets metres: its own ground and the camera (eye height,
    field of view, horizon hints), or the range mapping (see :mod:`paint2vr.depth.scale`)."""

    def _check_fields(self, where: str) -> None:
        if not DEVICE_PATTERN.match(self.device):
            raise OptionError(f"{where}.device", "auto, cpu, cuda, cuda:N or mps", self.device)


DEFAULT_TRANSFORMERS_OPTIONS = TransformersOptions()


def check_model_options(options: TransformersOptions, where: str = "") -> None:
    """Types and limits of every field, and a device name torch knows; raises OptionError."""
    if not isinstance(options, TransformersOptions):
        raise OptionError(where or "options", "TransformersOptions", type(options).__name__)
    check_options(options, where)

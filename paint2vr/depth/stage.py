"""The depth stage: painting -> DepthMap, from a depth file, the built-in prior or a learned model.

Stage contract (ARCHITECTURE.md): ``NAME``, the options class :class:`DepthOptions`, its
``DEFAULT_DEPTH_OPTIONS`` and ``stage(painting, options) -> DepthMap``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

from ..config import check_options, opt
from ..errors import InputError
from ..painting import Painting
from .base import DepthMap
from .files import DEFAULT_READ_DEPTH_OPTIONS, ReadDepthOptions, read_depth_file
from .hints import DEFAULT_HINT_OPTIONS, MOVED_HINTS, HintOptions, fold_hints
from .model_options import DEFAULT_TRANSFORMERS_OPTIONS, TransformersOptions
from .prior import DEFAULT_PRIOR_OPTIONS, PriorOptions

NAME = "depth"
log = logging.getLogger("paint2vr." + NAME)


@dataclass(frozen=True)
class DepthOptions:
    """Options of the depth stage: where depth comes from and the options of each source."""

    model: str = "prior"
    """Depth model: 'prior' (built in, no weights), a registry name (see 'paint2vr models list') or a local folder."""
    file: str | None = opt(None, flag="depth")
    """Use this depth map (16-bit PNG or .npy, as written by 'paint2vr depth') instead of estimating one."""
    commercial: bool = False
    """The run is commercial: refuse depth models whose licence forbids commercial use."""
    hints: HintOptions = DEFAULT_HINT_OPTIONS
    """A designer's hints about the painting's camera (flags --hint-*), honoured by the built-in
    prior and by a learned model's metric scale."""
    prior: PriorOptions = DEFAULT_PRIOR_OPTIONS
    """The built-in prior estimator (flags --prior-*; its hints are set through ``hints``)."""
    transformers: TransformersOptions = DEFAULT_TRANSFORMERS_OPTIONS
    """Learned models through transformers (flags --model-*, and --device; the scale's hints
    are set through ``hints``)."""
    read: ReadDepthOptions = DEFAULT_READ_DEPTH_OPTIONS
    """Reading a depth file (flags --depth-*)."""

    _moved: ClassVar[dict[str, str]] = MOVED_HINTS
    """Former names of fields (dotted, under this class) still accepted: the tree's coercion,
    flags and record know them (:func:`paint2vr.depth.hints.fold_hints`)."""

    def __post_init__(self) -> None:
        for name, value in fold_hints(self).items():  # hints given at a former place move to ``hints``
            object.__setattr__(self, name, value)


DEFAULT_DEPTH_OPTIONS = DepthOptions()


def stage(painting: Painting, options: DepthOptions = DEFAULT_DEPTH_OPTIONS) -> DepthMap:
    """The painting's depth map: read from ``options.file``, else estimated by ``options.model``."""
    if not isinstance(painting, Painting):
        raise InputError(f"the depth stage expects a Painting, got {type(painting).__name__}")
    check_options(options, NAME)
    if options.file:
        log.info("reading depth from %s", options.file)
        return read_depth_file(options.file, painting.rgb.shape[:2], options.read)
    from . import get_estimator
    estimator = get_estimator(options.model, commercial=options.commercial, options=options.transformers,
                              prior=options.prior, hints=options.hints)
    log.info("estimating depth with %s", options.model)
    return estimator.estimate([painting.rgb])[0]

"""The depth interface every estimator implements, and the DepthMap it returns."""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol, Sequence, runtime_checkable

import cv2
import numpy as np

from ..errors import InputError
from ..painting import preview_png


DEFAULT_NEAR = 1.5
"""Nearest depth (metres) of land in a relative depth map: the ground at the bottom edge."""
DEFAULT_FAR = 80.0
"""Farthest depth (metres) of land in a relative depth map; the sky lies beyond."""
DEFAULT_SKY_DEPTH = 200.0
"""Depth (metres) given to sky pixels when nothing says otherwise."""

CAMERA_HINT_KEYS = ("fov_deg", "eye_height", "horizon_row")
"""``DepthMap.extras`` keys an estimator writes when it knows them, read by :meth:`DepthMap.camera_hints`
(and so by lift): the field of view across the longer side (degrees), the eye height above the
ground (metres) and the horizon's row (pixels from the top, at the map's resolution)."""


@dataclass(frozen=True)
class CameraHints:
    """What a depth estimator knows of the camera that saw the painting (None: it does not know)."""

    fov_deg: float | None = None
    """Field of view across the painting's longer side, in degrees."""
    eye_height: float | None = None
    """Eye height above the ground, in metres."""
    horizon_row: float | None = None
    """Row (pixels from the top, full resolution) of the horizon, the eye's level."""


@dataclass(frozen=True)
class ModelInfo:
    """What produced a depth map; recorded in provenance."""

    name: str
    """Registry name, local path or 'prior'."""
    revision: str = ""
    """Hub revision (commit) or version of the estimator."""
    license: str = ""
    """Licence of the weights as the model card states it."""
    commercial: bool = True
    """Whether the licence allows commercial use."""


@dataclass(eq=False)
class DepthMap:
    """Per-pixel depth for one painting, at the painting's full resolution.

    Attributes:
        depth: (H, W) float32 metres along the camera's view axis, nearer = smaller; finite
            everywhere (sky pixels hold the backdrop distance).
        sky: (H, W) bool, True for pixels at infinity.
        metric: True if the estimator claims metres; False if the scale was assumed.
        model: what made it.
        confidence: optional float32 in [0, 1], (H, W) or a lower resolution of the same
            image (a model's own output size); consumers resize it.
        edges: optional float32 in [0, 1], strength of occlusion edges; (H, W) or lower
            resolution, like ``confidence``.

    A map may be *lazy* (:meth:`lazy`): some of its arrays are computed on first read (e.g.
    the full-resolution depth upsampled from a model's output) and then kept. Readers see no
    difference; ``shape`` never computes anything; ``dataclasses.replace`` returns an ordinary
    (eager) map; pickling keeps the map lazy when its maker pickles (only the small data
    travels), else pickles the computed arrays.
    """

    depth: np.ndarray
    sky: np.ndarray
    metric: bool
    model: ModelInfo
    confidence: np.ndarray | None = None
    edges: np.ndarray | None = None
    extras: dict = field(default_factory=dict)
    """Estimator-specific facts; the camera hints under :data:`CAMERA_HINT_KEYS`."""

    def __post_init__(self) -> None:
        _check_arrays(self.depth, self.sky, self.confidence, self.edges, values=True)

    def camera_hints(self) -> CameraHints:
        """The camera hints the estimator wrote into ``extras`` (:data:`CAMERA_HINT_KEYS`)."""
        def num(key: str) -> float | None:
            v = self.extras.get(key)
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None
        return CameraHints(*(num(k) for k in CAMERA_HINT_KEYS))

    @classmethod
    def lazy(cls, shape: tuple[int, int], make: Callable[[str], Mapping[str, np.ndarray | None]],
             names: Sequence[str] = ("depth", "sky"), *, metric: bool, model: ModelInfo,
             confidence: np.ndarray | None = None, edges: np.ndarray | None = None,
             extras: dict | None = None, check_values: bool = True) -> DepthMap:
        """A map whose arrays ``names`` (a subset of depth, sky, confidence, edges) are made on
        first read: ``make(name)`` returns that array and may return others of ``names`` with it
        (all are kept); it is dropped once everything is made. ``shape`` is the (H, W) that
        ``depth`` will have. The arrays are checked when made; ``check_values=False`` skips
        the finite/positive scan of depth, for makers that guarantee it (say how).
        Pass a picklable ``make`` (a module-level class or function) so that pickled maps
        stay lazy."""
        lazy_names = set(names)
        if not lazy_names or not lazy_names <= set(_LAZY_FIELDS) or not callable(make):
            raise InputError(f"DepthMap.lazy needs a callable and names among {_LAZY_FIELDS}, "
                             f"got {sorted(lazy_names)}")
        if len(shape) != 2 or min(int(shape[0]), int(shape[1])) < 1:
            raise InputError(f"DepthMap.lazy needs a (H, W) shape, got {shape}")
        self = cls.__new__(cls)
        eager = {"confidence": confidence, "edges": edges}
        self.__dict__.update({k: v for k, v in eager.items() if k not in lazy_names})
        self.__dict__.update(metric=metric, model=model, extras={} if extras is None else extras,
                             _lazy_make=make, _lazy_names=lazy_names, _lazy_check=check_values,
                             _lazy_shape=(int(shape[0]), int(shape[1])))
        return self

    @property
    def is_lazy(self) -> bool:
        """True while some arrays are still to be made."""
        return bool(self.__dict__.get("_lazy_names"))

    def _make(self, name: str):
        """Make the lazy array ``name`` (and whatever the maker returns with it)."""
        d = self.__dict__
        pending = d.get("_lazy_names")
        if not pending or name not in pending:
            raise AttributeError(f"DepthMap has no {name!r}")
        got = dict(d["_lazy_make"](name))
        if name not in got or not set(got) <= pending:
            raise InputError(f"DepthMap maker returned {sorted(got)} for {name!r}; expected it among "
                             f"{sorted(pending)}")
        shape = d["_lazy_shape"]
        if "depth" in got and getattr(got["depth"], "shape", None) != shape:
            raise InputError(f"DepthMap maker made depth of shape {getattr(got['depth'], 'shape', None)}, "
                             f"expected {shape}")
        _check_arrays(*(got.get(k, _SKIP) for k in _LAZY_FIELDS), values=d["_lazy_check"], shape=shape)
        d.update(got)
        pending -= set(got)
        if not pending:  # everything made: free the maker (and the small data it holds)
            for k in ("_lazy_make", "_lazy_names", "_lazy_check", "_lazy_shape"):
                d.pop(k, None)
        return got[name]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if self.is_lazy:
            try:  # pickled here so that an unpicklable maker falls back to the made arrays
                state["_lazy_make"] = pickle.dumps(state["_lazy_make"], protocol=pickle.HIGHEST_PROTOCOL)
                state["_lazy_names"] = set(state["_lazy_names"])
            except (pickle.PicklingError, TypeError, AttributeError):
                while self.is_lazy:
                    self._make(next(iter(self.__dict__["_lazy_names"])))
                state = dict(self.__dict__)
        return state

    def __setstate__(self, state: dict) -> None:
        if isinstance(state.get("_lazy_make"), bytes):
            state = dict(state, _lazy_make=pickle.loads(state["_lazy_make"]))
        self.__dict__.update(state)

    @property
    def shape(self) -> tuple[int, int]:
        d = self.__dict__.get("depth")
        return d.shape if d is not None else self.__dict__["_lazy_shape"]  # type: ignore[return-value]

    def _repr_png_(self) -> bytes:
        d = np.log(self.depth)
        lo, hi = float(d.min()), float(d.max())
        g = ((hi - d) / max(hi - lo, 1e-6) * 255).astype(np.uint8)
        g[self.sky] = 0
        return preview_png(g)

    def __repr__(self) -> str:
        d = self.depth[~self.sky] if (~self.sky).any() else self.depth
        return (f"DepthMap({self.shape[1]}x{self.shape[0]}, {float(d.min()):.2f}-{float(d.max()):.2f} m, "
                f"sky {self.sky.mean():.0%}, {'metric' if self.metric else 'relative'}, model={self.model.name})")


_LAZY_FIELDS = ("depth", "sky", "confidence", "edges")


class _LazyField:
    """Class attribute standing in for a field of :class:`DepthMap`: a non-data descriptor,
    so an instance's own value (eager maps, made arrays) is found first at plain attribute
    speed; it is only consulted while a lazy map's array is still to be made."""

    def __init__(self, name: str, default: object) -> None:
        self.name, self.default = name, default

    def __get__(self, obj: DepthMap | None, owner: type | None = None):
        if obj is None:
            if self.default is _NO_DEFAULT:
                raise AttributeError(self.name)
            return self.default
        return obj._make(self.name)


_NO_DEFAULT = object()
_SKIP = object()
# After @dataclass has read the fields (its __init__ keeps the defaults), so that
# dataclasses.replace / fields / __init__ see the usual fields.
for _f, _d in (("depth", _NO_DEFAULT), ("sky", _NO_DEFAULT), ("confidence", None), ("edges", None)):
    setattr(DepthMap, _f, _LazyField(_f, _d))
del _f, _d


def _check_arrays(d, sky, confidence, edges, *, values: bool, shape: tuple[int, int] | None = None) -> None:
    """The checks of DepthMap's arrays; ``_SKIP`` skips one (lazy maps check what they made)."""
    if d is not _SKIP:
        if not isinstance(d, np.ndarray) or d.ndim != 2 or d.dtype != np.float32:
            raise InputError(f"DepthMap.depth must be float32 (H, W), got "
                             f"{getattr(d, 'dtype', type(d).__name__)} {getattr(d, 'shape', '')}")
        if values and (not np.isfinite(d).all() or (d <= 0).any()):
            raise InputError("DepthMap.depth must be finite and > 0 everywhere")
        shape = d.shape
    if sky is not _SKIP and (not isinstance(sky, np.ndarray) or sky.shape != shape or sky.dtype != bool):
        raise InputError(f"DepthMap.sky must be bool {shape}, got {getattr(sky, 'dtype', type(sky).__name__)} "
                         f"{getattr(sky, 'shape', '')}")
    for name, a in (("confidence", confidence), ("edges", edges)):
        if a is not None and a is not _SKIP and (not isinstance(a, np.ndarray) or a.ndim != 2 or min(a.shape) < 1):
            raise InputError(f"DepthMap.{name} must be a 2-D array, got "
                             f"{getattr(a, 'shape', type(a).__name__)}")


@runtime_checkable
class DepthEstimator(Protocol):
    """A batch of paintings in, one :class:`DepthMap` per painting out (full resolution)."""

    info: ModelInfo

    def estimate(self, images: Sequence[np.ndarray]) -> list[DepthMap]:
        """``images``: (H, W, 3) uint8 arrays, sizes may differ."""
        ...


def edge_strength(logd: np.ndarray) -> np.ndarray:
    """Occlusion-edge strength in [0, 1]: the log-depth range in a 3x3 window, 1 at a 40 % jump."""
    if min(logd.shape) < 2:
        return np.zeros(logd.shape, np.float32)
    k = np.ones((3, 3), np.uint8)
    jump = cv2.dilate(logd, k) - cv2.erode(logd, k)
    return np.clip(jump / math.log(1.4), 0.0, 1.0).astype(np.float32)

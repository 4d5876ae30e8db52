"""The per-item work of a batch, run in worker processes (or inline): read, convert, export.

Everything here is picklable and driven by a :class:`WorkerConfig` installed once per
process by :func:`init_worker`, so each task carries only its item.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from ..config import options_to_dict, replace_options
from ..errors import InputError, Paint2VRError
from .layout import output_relpath
from .manifest import ManifestItem, scheme_of
from .state import ItemRecord

log = logging.getLogger(__name__)

PERMANENT_OS_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)

SceneFn = Callable[..., Any]
"""(local_path, ConvertOptions, PaintingInfo, on_stage) -> Scene; the default is pipeline.convert."""


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker process needs, sent once when the process starts."""

    out: str
    """The output folder."""
    convert_options: Any
    """Base ConvertOptions (rows' 'options' override some fields)."""
    export_options: Any
    """ExportOptions of every scene."""
    retries: int = 3
    """Extra attempts after a transient read error (OSError other than missing/permission)."""
    retry_backoff: float = 0.5
    """Seconds before the first retry; doubled after each."""
    tmp_dir: str = ""
    """Folder for local copies of remote inputs ('' = the system's)."""
    scene_fn: SceneFn | None = None
    """Replacement for pipeline.convert (tests, custom pipelines); must be picklable."""


@dataclass(frozen=True)
class Task:
    """One item to process."""

    item: ManifestItem
    options_hash: str
    expect: ItemRecord | None = None
    """A 'done' record with the same options: skip if the input's sha256 still matches it."""
    painting: Any = None
    """Already loaded Painting (when the main process ran depth for a batch)."""
    depth: Any = None
    """Its DepthMap."""
    fingerprint: str = ""
    pre_stages: dict[str, float] = field(default_factory=dict)
    """Stage times already spent on it in the main process (load, depth)."""
    edits: str = ""
    """The designer's edits file applied to it ('' for none)."""


@dataclass
class ItemResult:
    """What happened to one item."""

    id: str
    line: int
    status: str
    """'done', 'skipped' or 'failed'."""
    options_hash: str = ""
    input_sha256: str = ""
    input_fingerprint: str = ""
    output: str = ""
    output_sha256: str = ""
    output_bytes: int = 0
    error: str = ""
    attempts: int = 1
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)

    def record(self) -> ItemRecord:
        return ItemRecord(id=self.id, status=self.status, options_hash=self.options_hash,
                          input_sha256=self.input_sha256, input_fingerprint=self.input_fingerprint,
                          output=self.output, output_sha256=self.output_sha256,
                          output_bytes=self.output_bytes, attempts=self.attempts, error=self.error,
                          line=self.line)


_CONFIG: WorkerConfig | None = None


def remove_quietly(path: str | None) -> None:
    """Delete a temporary file if there is one; a file already gone is fine."""
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


def init_worker(config: WorkerConfig) -> None:
    """Install ``config`` in this process (ProcessPoolExecutor initializer)."""
    global _CONFIG
    _CONFIG = config
    if config.scene_fn is None:
        import paint2vr.pipeline  # noqa: F401  - import once per worker, not per item


def item_options(base: Any, overrides: dict[str, Any]) -> Any:
    """ConvertOptions with a row's 'options' applied (InputError on bad fields or values)."""
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key == "effects":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise InputError(f"options.effects must be a list of names, got {value!r}")
            changes[key] = tuple(value)
        elif key == "seed":
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"options.seed must be an integer, got {value!r}")
            changes[key] = value
        elif key == "effect_options":
            if not isinstance(value, dict):
                raise InputError(f"options.effect_options must be an object, got {value!r}")
            changes[key] = value
        elif key == "lift":
            if not isinstance(value, dict):
                raise InputError(f"options.lift must be an object, got {value!r}")
            changes[key] = replace_options(base.lift, **value)
        else:
            raise InputError(f"options.{key} cannot be set per item")
    return replace_options(base, **changes) if changes else base


def options_hash(convert_options: Any, export_options: Any) -> str:
    """sha256 of the options that shape an item's output (convert + export), as sorted JSON."""
    doc = {"convert": options_to_dict(convert_options), "export": options_to_dict(export_options)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def fingerprint(location: str) -> str:
    """A cheap change detector (size + mtime/ETag) or '' when unavailable."""
    try:
        if not scheme_of(location):
            st = os.stat(location)
            return f"{st.st_size}:{st.st_mtime_ns}"
        import fsspec
        fs, p = fsspec.core.url_to_fs(location)
        info = fs.info(p)
        keys = ("size", "ETag", "etag", "mtime", "LastModified", "last_modified", "created", "md5Hash")
        return json.dumps({k: str(info[k]) for k in keys if k in info}, sort_keys=True)
    except (OSError, ValueError, ImportError):
        return ""


def with_retries(fn: Callable[[], Any], retries: int, backoff: float, what: str) -> tuple[Any, int]:
    """(fn(), attempts): retry transient OSErrors with exponential backoff."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn(), attempt
        except OSError as exc:
            exc.p2v_attempts = attempt  # type: ignore[attr-defined]
            if isinstance(exc, PERMANENT_OS_ERRORS) or attempt > retries:
                raise
            wait = backoff * 2 ** (attempt - 1)
            log.warning("%s: %s; retry %d/%d in %.2f s", what, exc, attempt, retries, wait)
            time.sleep(wait)


def read_bytes(location: str) -> bytes:
    if not scheme_of(location):
        return Path(location).read_bytes()
    import fsspec
    with fsspec.open(location, "rb") as fh:
        return fh.read()


def fetch(location: str, config: WorkerConfig) -> tuple[str, str, bool, int]:
    """(local path, sha256, is a temporary copy, attempts) of an input, retrying transient errors."""
    data, attempts = with_retries(lambda: read_bytes(location), config.retries, config.retry_backoff,
                                  location)
    digest = hashlib.sha256(data).hexdigest()
    if not scheme_of(location):
        return location, digest, False, attempts
    suffix = Path(location.split("?")[0]).suffix[:10]
    fd, tmp = tempfile.mkstemp(prefix="p2v-", suffix=suffix, dir=config.tmp_dir or None)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return tmp, digest, True, attempts


def _output_ok(out: Path, expect: ItemRecord) -> bool:
    try:
        return out.stat().st_size == expect.output_bytes and not out.is_symlink()
    except OSError:
        return False


def _write(config: WorkerConfig, rel: str, scene: Any, stages: dict[str, float]) -> tuple[str, int]:
    from ..export import export_bytes
    from ..export.files import write_atomic
    t0 = time.perf_counter()
    data = export_bytes(scene, config.export_options)
    stages["export"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    target = Path(config.out) / rel
    shard = target.parent
    shard.mkdir(exist_ok=True)
    if shard.is_symlink():
        raise Paint2VRError(f"{shard} is a symlink; refusing to write through it")
    write_atomic(target, data)
    if getattr(config.export_options, "sidecar", False):
        from ..config import options_to_dict as _otd
        from ..export.provenance import provenance_record
        record = provenance_record(scene)
        record["export"] = _otd(config.export_options)
        side = target.with_name(target.stem + ".provenance.json")
        write_atomic(side, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
    stages["write"] = time.perf_counter() - t0
    return hashlib.sha256(data).hexdigest(), len(data)


def painting_info(item: ManifestItem) -> Any:
    from ..painting import PaintingInfo
    return PaintingInfo(id=item.id, title=item.title, artist=item.artist, license=item.license,
                        attribution=item.attribution, source=item.location)


def run_item(task: Task, config: WorkerConfig | None = None) -> ItemResult:
    """Process one task; never raises for a bad item (the failure is in the result)."""
    config = config or _CONFIG
    if config is None:
        raise RuntimeError("init_worker was not called in this process")
    item = task.item
    rel = output_relpath(item.id)
    res = ItemResult(id=item.id, line=item.line, status="failed", options_hash=task.options_hash,
                     output=rel, input_fingerprint=task.fingerprint)
    res.stages.update(task.pre_stages)
    t_start = time.perf_counter()
    tmp: str | None = None
    try:
        options = item_options(config.convert_options, item.options)
        if task.edits:
            options = replace(options, edits=task.edits)

        def on_stage(name: str, seconds: float) -> None:
            res.stages[name] = res.stages.get(name, 0.0) + seconds

        if task.painting is not None:
            from ..pipeline import convert_painting
            res.input_sha256 = task.painting.sha256
            scene = convert_painting(task.painting, options, depth=task.depth, on_stage=on_stage)
        else:
            t0 = time.perf_counter()
            local, digest, is_tmp, res.attempts = fetch(item.location, config)
            tmp = local if is_tmp else None
            res.stages["read"] = time.perf_counter() - t0
            res.input_sha256 = digest
            if not res.input_fingerprint and not is_tmp:
                res.input_fingerprint = fingerprint(item.location)
            exp = task.expect
            if exp is not None and exp.input_sha256 == digest and _output_ok(Path(config.out) / rel, exp):
                res.status, res.output_sha256, res.output_bytes = "skipped", exp.output_sha256, exp.output_bytes
                return res
            if config.scene_fn is not None:
                scene = config.scene_fn(local, options, painting_info(item), on_stage)
            else:
                from ..pipeline import convert
                scene = convert(local, options, painting_info(item), on_stage=on_stage)
        res.output_sha256, res.output_bytes = _write(config, rel, scene, res.stages)
        res.status = "done"
    except Paint2VRError as exc:
        res.error = f"{type(exc).__name__}: {exc}"
    except OSError as exc:
        res.attempts = getattr(exc, "p2v_attempts", res.attempts)
        res.error = f"cannot read {item.location!r}: {exc.strerror or exc} (after {res.attempts} attempt(s))"
    except MemoryError:
        res.error = "out of memory (lower --max-side or --triangle-budget)"
    except Exception as exc:  # a bug or an unexpected library error: keep going, keep the trace
        log.error("item %s: internal error\n%s", item.id, traceback.format_exc())
        res.error = f"internal error: {type(exc).__name__}: {exc}"
    finally:
        remove_quietly(tmp)
        res.seconds = time.perf_counter() - t_start
    return res

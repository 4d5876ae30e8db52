"""The per-item work of a batch, run in worker processes (or inline): read, convert, export.

Everything here is picklable and driven by a :class:`WorkerConfig` installed once per
process by :func:`init_worker`, so each task carries only its item.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import multiprocessing
import os
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from ..config import options_to_dict
from ..errors import InputError, Paint2VRError
from ..heap import tune_heap
from .layout import output_relpath
from ..io.reading import open_regular, sha256_at_most
from .manifest import ManifestItem, scheme_of
from .overrides import item_options
from .remote import REMOTE_TIMEOUT_S, read_remote, url_to_fs
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
    remote_timeout: float = REMOTE_TIMEOUT_S
    """Connect and read timeout (seconds) of each request to a remote store."""


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
    fatal: bool = False
    """The output disk is full: the run stops (the item is not recorded, so it is redone)."""

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
    """Install ``config`` in this process (ProcessPoolExecutor initializer) and tune its heap
    for the conversions it runs (:func:`paint2vr.heap.tune_heap`: a worker owns its process)."""
    global _CONFIG
    _CONFIG = config
    tune_heap()
    if config.scene_fn is None:
        import paint2vr.pipeline  # noqa: F401  - import once per worker, not per item


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
        fs, p = url_to_fs(location, REMOTE_TIMEOUT_S)
        info = fs.info(p)
        keys = ("size", "ETag", "etag", "mtime", "LastModified", "last_modified", "created", "md5Hash")
        return json.dumps({k: str(info[k]) for k in keys if k in info}, sort_keys=True)
    except Exception:  # noqa: BLE001 - no fingerprint: the worker compares the input's sha256
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


def local_path(location: str) -> str | None:
    """The local file path of a location (plain path or file:// URL), None for remote ones."""
    scheme = scheme_of(location)
    if not scheme:
        return location
    if scheme == "file":
        return unquote(urlsplit(location).path)
    return None


def read_input(location: str, config: WorkerConfig) -> tuple[str, str, bool]:
    """One attempt at (local path, sha256, is a temporary copy) of an input.

    Local inputs are hashed from one bounded, regular-file-only handle (paint2vr.io.reading);
    remote ones are read (at most the size limit, bounded time) into a temporary copy.
    """
    limit = config.convert_options.load.max_file_bytes
    path = local_path(location)
    if path is not None:
        try:
            with open_regular(path, limit) as fh:
                return path, sha256_at_most(fh, limit, path), False
        except InputError as exc:
            raise InputError(f"cannot read {exc.message}", hint=exc.hint) from None
    data = read_remote(location, limit, config.remote_timeout)
    suffix = Path(location.split("?")[0]).suffix[:10]
    fd, tmp = tempfile.mkstemp(prefix="p2v-", suffix=suffix, dir=config.tmp_dir or None)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return tmp, hashlib.sha256(data).hexdigest(), True


def fetch(location: str, config: WorkerConfig) -> tuple[str, str, bool, int]:
    """(local path, sha256, is a temporary copy, attempts) of an input, retrying transient errors."""
    (path, digest, is_tmp), attempts = with_retries(lambda: read_input(location, config), config.retries,
                                                    config.retry_backoff, location)
    return path, digest, is_tmp, attempts


def _output_ok(out: Path, expect: ItemRecord) -> bool:
    try:
        return out.stat().st_size == expect.output_bytes and not out.is_symlink()
    except OSError:
        return False


class OutputWriteError(Exception):
    """Writing an item's output failed (the output folder's problem, not the input's)."""

    def __init__(self, target: Path, exc: Exception) -> None:
        self.disk_full = getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
        what = "the output disk is full" if self.disk_full else "cannot write"
        why = getattr(exc, "strerror", None) or getattr(exc.__cause__, "strerror", None) or exc
        super().__init__(f"{what}: {why} (writing {target})")


def _mark_running(config: WorkerConfig, item_id: str) -> None:
    """Note which item this worker process runs (read by the main process if it dies)."""
    if multiprocessing.parent_process() is None or not config.tmp_dir:
        return
    try:
        Path(config.tmp_dir, f"running-{os.getpid()}").write_text(item_id, encoding="utf-8")
    except OSError:
        pass


def _write(config: WorkerConfig, rel: str, scene: Any, stages: dict[str, float]) -> tuple[str, int]:
    target = Path(config.out) / rel
    try:
        return _write_files(config, target, scene, stages)
    except OSError as exc:
        raise OutputWriteError(target, exc) from exc
    except Paint2VRError as exc:
        if getattr(exc, "errno", None) is None:  # not a write failure (budget, ...): the item's own
            raise
        raise OutputWriteError(target, exc) from exc


def _write_files(config: WorkerConfig, target: Path, scene: Any, stages: dict[str, float]) -> tuple[str, int]:
    from ..export import export_bytes_and_record
    from ..export.files import write_atomic
    t0 = time.perf_counter()
    data, record = export_bytes_and_record(scene, config.export_options)
    stages["export"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    shard = target.parent
    shard.mkdir(exist_ok=True)
    if shard.is_symlink():
        raise Paint2VRError(f"{shard} is a symlink; refusing to write through it")
    write_atomic(target, data)
    if getattr(config.export_options, "sidecar", False):  # the very record the GLB holds
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
    _mark_running(config, item.id)
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
    except OutputWriteError as exc:
        res.error, res.fatal = str(exc), exc.disk_full
    except OSError as exc:
        res.attempts = getattr(exc, "p2v_attempts", res.attempts)
        res.error = f"cannot read {item.location!r}: {exc.strerror or exc} (after {res.attempts} attempt(s))"
    except MemoryError:
        res.error = "out of memory (lower --max-side or --max-triangles)"
    except Exception as exc:  # a bug or an unexpected library error: keep going, keep the trace
        log.error("item %s: internal error\n%s", item.id, traceback.format_exc())
        res.error = f"internal error: {type(exc).__name__}: {exc}"
    finally:
        remove_quietly(tmp)
        res.seconds = time.perf_counter() - t_start
    return res

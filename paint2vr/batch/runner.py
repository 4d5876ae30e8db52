"""run_batch: every painting of a manifest -> DIR/<shard>/<id>.glb, resumable, with a report.

The main process owns the manifest stream, the job store and the audit log; worker
processes do the per-item work (worker.run_item). At most ``window`` tasks are in flight,
so memory stays flat however long the manifest is. With a learned depth model the main
process estimates depth a batch at a time while the workers lift, add effects and export
the previous batches.
"""

from __future__ import annotations

import hashlib
import contextlib
import json
import logging
import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from concurrent.futures.thread import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

from ..errors import BatchError, ExportError, InputError, Interrupted
from .layout import EDITS_SUFFIX, JOB_DIR, FolderLock, check_no_escaping_symlinks, output_relpath
from .manifest import DEFAULT_MANIFEST_OPTIONS, ManifestItem, ManifestOptions, check_manifest, iter_manifest
from .state import JobStore, _last_seq, damaged_store, is_disk_full, rebuild_store
from .worker import (ItemResult, SceneFn, Task, WorkerConfig, _output_ok, fetch, fingerprint, init_worker,
                     item_options, options_hash, painting_info, remove_quietly, run_item)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchOptions:
    """Options of :func:`run_batch`."""

    engine: Literal["local", "ray"] = "local"
    """Where items run: 'local' worker processes, or 'ray' (Ray Data; needs paint2vr[ray])."""
    workers: int = 0
    """Worker processes (local engine); 0 = one per CPU core."""
    inline: bool = False
    """Run every item in this process, one at a time (debugging; ignores --workers)."""
    window: int = 0
    """Most tasks in flight at once; 0 = 4 per worker (bounds memory)."""
    retries: int = 3
    """Extra attempts after a transient read error (OSError other than missing/permission)."""
    retry_backoff: float = 0.5
    """Seconds before the first retry of a read; doubled after each."""
    depth_in: Literal["auto", "workers", "main"] = "auto"
    """Where depth runs: 'workers' (per item), 'main' (batched in the main process, for learned models); auto = workers for the prior."""
    depth_batch_size: int = 8
    """Paintings per depth-model batch when depth runs in the main process (or a Ray actor)."""
    start_method: Literal["forkserver", "spawn"] = "forkserver"
    """How worker processes start (never 'fork': the main process may hold a model or threads)."""
    ray_address: str = ""
    """Ray cluster address ('' = start a local Ray instance)."""
    ray_depth_actors: int = 1
    """Ray actors holding the depth model (each takes one GPU when the cluster has GPUs)."""
    rerun_edited: bool = False
    """Convert only the items whose edits changed since their scene was made (edits saved in the studio's review queue, or a manifest's 'edits' column)."""
    manifest: ManifestOptions = DEFAULT_MANIFEST_OPTIONS
    """Manifest reading and checking."""
    rebuild_store: bool = False
    """Rebuild a damaged or lost job store from audit.jsonl and the outputs on disk before running (the damaged file is kept as jobs.sqlite.damaged)."""
    max_requeues: int = 2
    """Times an item in flight when a worker process died (not the one that died) is run again before it counts as failed."""


DEFAULT_BATCH_OPTIONS = BatchOptions()


@dataclass
class Progress:
    """Counters passed to ``on_progress`` after every item."""

    total: int
    done: int = 0
    skipped: int = 0
    failed: int = 0
    last: ItemResult | None = None

    @property
    def finished(self) -> int:
        return self.done + self.skipped + self.failed


ProgressFn = Callable[[Progress], None]


@dataclass
class BatchReport:
    """The outcome of a run (also written to DIR/report.json)."""

    out: str
    engine: str
    workers: int
    manifest: str = ""
    """The manifest the run read (the studio's review queue finds its items through it)."""
    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    items_per_second: float = 0.0
    """Converted (done + failed) items per second of wall time."""
    stages: dict[str, dict[str, float]] = field(default_factory=dict)
    """{stage: {'seconds': total, 'mean': per item, 'count': n}} from the stages' timers."""
    failures: list[dict[str, Any]] = field(default_factory=list)
    """Every failed item in the store: {'id', 'line', 'error', 'attempts'}."""
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _InlineExecutor(Executor):
    """An executor that runs each task at submit time (``inline`` mode)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:  # type: ignore[override]
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut


class BatchJob:
    """The engine-independent part of a run: checks, lock, store, skip decisions, bookkeeping.

    Engines (local processes, Ray) call :meth:`tasks`, hand each :class:`ItemResult` to
    :meth:`handle` and finish with :meth:`close`.
    """

    def __init__(self, manifest: str | os.PathLike[str], out: str | os.PathLike[str],
                 options: BatchOptions, convert_options: Any, export_options: Any,
                 on_progress: ProgressFn | None = None, scene_fn: SceneFn | None = None) -> None:
        self.manifest = str(manifest)
        self.out = Path(out)
        self.options = options
        self.on_progress = on_progress
        if convert_options.depth.file:
            raise InputError("ConvertOptions.depth.file names one depth file; a batch cannot share it",
                             hint="leave --depth out of batch runs")
        self.convert_options = convert_options
        self.export_options = export_options
        self.base_hash = options_hash(convert_options, export_options)
        check_no_escaping_symlinks(self.out)
        summary = check_manifest(self.manifest, options.manifest, self._validate_item)
        self.total = summary.rows
        # Nothing has been written so far; from here on we own the folder.
        self.out.mkdir(parents=True, exist_ok=True)
        self.lock = FolderLock(self.out).acquire()
        try:
            store_path = self.out / JOB_DIR / "jobs.sqlite"
            self.audit_path = self.out / "audit.jsonl"
            if options.rebuild_store:
                kept, redo = rebuild_store(store_path, self.audit_path, self.out)
                log.warning("%s: job store rebuilt from audit.jsonl: %d item(s) verified on disk, %d to redo",
                            store_path, kept, redo)
            self.store = JobStore(store_path)
            self.store.continue_audit(_last_seq(self.audit_path))
            self.store.sync_audit(self.audit_path)
            self.tmp_dir = self.out / JOB_DIR / "tmp"
            self.tmp_dir.mkdir(exist_ok=True)
            self._clean_partials()
        except BaseException:
            self.lock.release()
            raise
        self.config = WorkerConfig(out=str(self.out), convert_options=convert_options,
                                   export_options=export_options, retries=options.retries,
                                   retry_backoff=options.retry_backoff, tmp_dir=str(self.tmp_dir),
                                   scene_fn=scene_fn, remote_timeout=options.manifest.remote_timeout)
        self.progress = Progress(total=self.total)
        self.stage_totals: dict[str, list[float]] = {}
        self.t0 = time.perf_counter()
        self._last_sync = time.monotonic()
        self.interrupted = False
        self.report: BatchReport | None = None

    def _validate_item(self, item: ManifestItem) -> str | None:
        if not item.options:
            return None
        try:
            item_options(self.convert_options, item.options)
        except InputError as exc:
            return f"bad 'options': {exc}"
        return None

    def _clean_partials(self) -> None:
        """Remove temporary files a killed run left behind (write_atomic's '.<name>.*.part')."""
        for folder in [self.tmp_dir, *(p for p in self.out.iterdir() if p.is_dir() and len(p.name) == 2)]:
            with os.scandir(folder) as it:
                for entry in it:
                    if entry.name.startswith(".") and entry.name.endswith(".part") or folder == self.tmp_dir:
                        if entry.is_file(follow_symlinks=False):
                            os.unlink(entry.path)

    def edits_for(self, item: ManifestItem) -> str:
        """The item's edits file: the manifest's 'edits' column, else the one the studio saved
        beside its scene (``<shard>/<id>.edits.json``), else ''."""
        if item.edits:
            return item.edits
        saved = self.out / output_relpath(item.id, EDITS_SUFFIX)
        return str(saved) if saved.is_file() else ""

    def hash_for(self, item: ManifestItem, edits: str = "") -> str:
        h = self.base_hash if not item.options else options_hash(
            item_options(self.convert_options, item.options), self.export_options)
        if not edits:
            return h
        try:
            content = hashlib.sha256(Path(edits).read_bytes()).hexdigest()
        except OSError:
            content = "missing"  # the worker reports the unreadable file as the item's failure
        return hashlib.sha256(f"{h}:edits:{content}".encode()).hexdigest()

    def tasks(self) -> Iterator[Task | ItemResult]:
        """Tasks to run, or ready 'skipped' results for items already done with the same input
        (same size+mtime/ETag) and options; streamed a manifest chunk at a time."""
        for chunk in iter_manifest(self.manifest, self.options.manifest):
            known = self.store.get_many([it.id for it in chunk])
            for item in chunk:
                edits = self.edits_for(item)
                h = self.hash_for(item, edits)
                rec = known.get(item.id)
                if self.options.rerun_edited and (not edits or (rec is not None and rec.options_hash == h)):
                    yield ItemResult(id=item.id, line=item.line, status="skipped", options_hash=h, seconds=0.0)
                    continue
                if rec is None or rec.status != "done" or rec.options_hash != h:
                    yield Task(item=item, options_hash=h, edits=edits)
                    continue
                fp = fingerprint(item.location)
                if fp and fp == rec.input_fingerprint and _output_ok(self.out / rec.output, rec):
                    yield ItemResult(id=item.id, line=item.line, status="skipped", options_hash=h,
                                     input_sha256=rec.input_sha256, input_fingerprint=fp,
                                     output=rec.output, output_sha256=rec.output_sha256,
                                     output_bytes=rec.output_bytes, seconds=0.0)
                else:  # the worker compares the input's sha256 with the record
                    yield Task(item=item, options_hash=h, expect=rec, fingerprint=fp, edits=edits)

    def handle(self, res: ItemResult) -> None:
        if res.fatal:  # the output disk is full: every further item would fail the same way
            raise BatchError(f"{self.out}: {res.error}; the run stopped",
                             hint="free space on that disk and run again: finished items are kept, "
                                  "the rest are redone")
        if res.status in ("done", "failed"):
            self.store.record(res.record(), res.seconds)
        if res.status == "failed":
            self.progress.failed += 1
            log.warning("item %s (line %d) failed: %s", res.id, res.line, res.error)
        elif res.status == "skipped":
            self.progress.skipped += 1
        else:
            self.progress.done += 1
        for name, sec in res.stages.items():
            acc = self.stage_totals.setdefault(name, [0.0, 0])
            acc[0] += sec
            acc[1] += 1
        self.progress.last = res
        if time.monotonic() - self._last_sync > 2.0:
            self.store.sync_audit(self.audit_path)
            self._last_sync = time.monotonic()
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def close(self, engine: str, workers: int) -> BatchReport:
        """Flush the audit log, write report.json, release the lock."""
        try:
            self._finish(engine, workers)
        except (OSError, sqlite3.Error, ExportError) as exc:
            if not is_disk_full(exc):
                raise
            log.warning("%s: no space left to write report.json (%s)", self.out, exc)
        finally:
            self.store.close()
            self.lock.release()
        return self.report  # type: ignore[return-value]

    def _finish(self, engine: str, workers: int) -> None:
        from ..export.files import write_atomic
        elapsed = time.perf_counter() - self.t0
        p = self.progress
        report = BatchReport(
            out=str(self.out), engine=engine, workers=workers, manifest=self.manifest, total=self.total, done=p.done,
            skipped=p.skipped, failed=p.failed, seconds=round(elapsed, 3),
            items_per_second=round((p.done + p.failed) / elapsed, 3) if elapsed > 0 else 0.0,
            stages={k: {"seconds": round(v[0], 4), "mean": round(v[0] / max(v[1], 1), 5), "count": int(v[1])}
                    for k, v in sorted(self.stage_totals.items())},
            failures=[{"id": i, "line": ln, "error": e, "attempts": a}
                      for i, ln, e, a in self.store.failures()],
            interrupted=self.interrupted)
        self.report = report
        self.store.sync_audit(self.audit_path)
        write_atomic(self.out / "report.json",
                     (json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n").encode())


def _default_options(convert_options: Any = None, export_options: Any = None) -> tuple[Any, Any]:
    """The given options, with the library's defaults where None."""
    from ..export import DEFAULT_EXPORT_OPTIONS
    from ..pipeline import convert_options as tree
    return (tree(convert_options),
            DEFAULT_EXPORT_OPTIONS if export_options is None else export_options)


def load_for_depth(task: Task, config: WorkerConfig) -> tuple[Task, Any, ItemResult | None]:
    """Read and decode one input where depth is batched (main process or a Ray actor).

    Returns (task with its Painting, seconds, None), or (task, None, a skipped/failed result).
    """
    from ..painting import load_painting
    res = ItemResult(id=task.item.id, line=task.item.line, status="failed", options_hash=task.options_hash,
                     output=output_relpath(task.item.id), input_fingerprint=task.fingerprint)
    tmp = None
    try:
        t0 = time.perf_counter()
        local, digest, is_tmp, res.attempts = fetch(task.item.location, config)
        tmp = local if is_tmp else None
        exp = task.expect
        if exp is not None and exp.input_sha256 == digest and _output_ok(Path(config.out) / res.output, exp):
            res.status, res.input_sha256 = "skipped", digest
            res.output_sha256, res.output_bytes = exp.output_sha256, exp.output_bytes
            return task, None, res
        options = item_options(config.convert_options, task.item.options)
        painting = load_painting(local, painting_info(task.item), options.load)
        fp = task.fingerprint or ("" if is_tmp else fingerprint(task.item.location))
        return replace(task, painting=painting, fingerprint=fp), time.perf_counter() - t0, None
    except Exception as exc:  # noqa: BLE001 - recorded as the item's failure
        res.attempts = getattr(exc, "p2v_attempts", res.attempts)
        res.error = f"{type(exc).__name__}: {exc}"
        return task, None, res
    finally:
        remove_quietly(tmp)


def depth_batch(batch: list[Task], config: WorkerConfig, estimator: Any,
                io_pool: ThreadPoolExecutor) -> Iterator[Task | ItemResult]:
    """Load a batch of tasks (threads), run the depth model once on all of them, and yield
    tasks carrying painting + depth (or results for items skipped or failed on the way)."""
    loaded = list(io_pool.map(lambda t: load_for_depth(t, config), batch))
    ready = [(t, sec) for t, sec, res in loaded if res is None]
    for _, _, res in loaded:
        if res is not None:
            yield res
    if not ready:
        return
    t0 = time.perf_counter()
    try:
        depths = estimator.estimate([t.painting.rgb for t, _ in ready])
    except Exception as exc:  # noqa: BLE001 - the whole batch fails, the run goes on
        for t, _ in ready:
            yield ItemResult(id=t.item.id, line=t.item.line, status="failed",
                             options_hash=t.options_hash, output=output_relpath(t.item.id),
                             error=f"depth model failed: {type(exc).__name__}: {exc}")
        return
    share = (time.perf_counter() - t0) / len(ready)
    for (t, load_s), d in zip(ready, depths):
        yield replace(t, depth=d, pre_stages={"load": load_s, "depth": share})


def _with_depth(tasks: Iterator[Task | ItemResult], job: BatchJob, estimator: Any,
                batch_size: int) -> Iterator[Task | ItemResult]:
    """Group tasks into batches and run the depth model on each batch in this process."""
    io_pool = ThreadPoolExecutor(max_workers=4)
    try:
        batch: list[Task] = []

        def flush() -> Iterator[Task | ItemResult]:
            return depth_batch(batch, job.config, estimator, io_pool)

        for t in tasks:
            if isinstance(t, ItemResult):
                yield t
                continue
            batch.append(t)
            if len(batch) >= batch_size:
                yield from flush()
                batch = []
        if batch:
            yield from flush()
    finally:
        io_pool.shutdown()


def get_batch_estimator(convert_options: Any, batch_size: int) -> Any:
    from ..depth import get_estimator
    d = convert_options.depth
    return get_estimator(d.model, batch_size=batch_size, commercial=d.commercial, options=d.transformers,
                         prior=d.prior, hints=d.hints)


def run_local(manifest: str | os.PathLike[str], out: str | os.PathLike[str],
              options: BatchOptions = DEFAULT_BATCH_OPTIONS, convert_options: Any = None,
              export_options: Any = None, *, on_progress: ProgressFn | None = None,
              scene_fn: SceneFn | None = None, estimator: Any = None) -> BatchReport:
    """The local engine of :func:`paint2vr.batch.run_batch`: worker processes on this machine.

    Converts every painting of ``manifest`` into ``out/<shard>/<id>.glb``.

    Checks the whole manifest first (ManifestError lists every bad row; nothing is written),
    locks ``out`` (BatchError if another run holds it), skips items already done with the same
    input and options, records failures without stopping, and writes report.json and
    audit.jsonl. ``estimator`` (an object with ``.estimate(list of rgb)``) replaces the depth
    model and makes depth run batched in the main process; ``scene_fn`` replaces
    pipeline.convert in the workers (it must be picklable).
    """
    if options.workers < 0 or options.window < 0 or options.retries < 0 or options.depth_batch_size < 1:
        raise InputError("workers, window and retries must be >= 0 and depth_batch_size >= 1, got "
                         f"{options.workers}, {options.window}, {options.retries}, {options.depth_batch_size}")
    convert_options, export_options = _default_options(convert_options, export_options)
    with _stop_on_sigterm(), _output_problems(Path(out)):
        job = BatchJob(manifest, out, options, convert_options, export_options, on_progress, scene_fn)
        workers = 1 if options.inline else (options.workers or os.cpu_count() or 1)
        depth_main = options.depth_in == "main" or (options.depth_in == "auto" and (
            estimator is not None or convert_options.depth.model != "prior"))
        try:
            tasks: Iterator[Task | ItemResult] = job.tasks()
            if depth_main:
                est = estimator if estimator is not None else get_batch_estimator(convert_options,
                                                                                  options.depth_batch_size)
                tasks = _with_depth(tasks, job, est, options.depth_batch_size)
            _run_local(job, tasks, workers, options)
        except KeyboardInterrupt:
            job.interrupted = True
            job.close("local", workers)
            raise
        except BaseException:
            job.close("local", workers)
            raise
        return job.close("local", workers)


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM (what schedulers and ``docker stop`` send) stops the run like Ctrl+C: the
    workers are ended, the report says interrupted=true (errors.Interrupted, exit 143)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _output_problems(out: Path) -> Iterator[None]:
    """A full output disk or a damaged job store, wherever it shows, becomes one BatchError."""
    try:
        yield
    except (OSError, sqlite3.Error, ExportError) as exc:
        if is_disk_full(exc):
            raise BatchError(f"{out}: the output disk is full ({getattr(exc, 'strerror', None) or exc}); "
                             "the run stopped",
                             hint="free space on that disk and run again: finished items are kept, "
                                  "the rest are redone") from None
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            raise damaged_store(out / JOB_DIR / "jobs.sqlite", exc) from None
        raise


def _worker_died(task: Task) -> ItemResult:
    return ItemResult(id=task.item.id, line=task.item.line, status="failed", options_hash=task.options_hash,
                      output=output_relpath(task.item.id),
                      error="a worker process died while this item was running "
                            "(out of memory? it is retried on the next run)")


def _culprits(procs: dict[int, Any], tmp_dir: str) -> set[str]:
    """Ids of the items that were running in worker processes that died on their own, from the
    marker each worker writes per item. A worker killed by a signal (the OOM killer's SIGKILL, a
    crash's SIGSEGV; not the pool's SIGTERM) is the culprit; a sibling that exits with an error
    code when the broken pool's pipes close is not, so exit codes count only when no worker was
    killed by a signal."""
    ended = {pid: proc.exitcode for pid, proc in procs.items()
             if proc.exitcode not in (None, 0, -signal.SIGTERM)}
    killed = [pid for pid, code in ended.items() if code < 0]
    ids: set[str] = set()
    for pid in killed or list(ended):
        try:
            ids.add(Path(tmp_dir, f"running-{pid}").read_text(encoding="utf-8"))
        except OSError:
            pass
    return ids


def _end_pool(pool: Executor, kill: bool) -> None:
    """Shut a pool down; ``kill`` ends its worker processes first (interrupt, broken pool)."""
    if kill:
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            if proc.is_alive():
                proc.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _run_local(job: BatchJob, tasks: Iterator[Task | ItemResult], workers: int, options: BatchOptions) -> None:
    window = options.window or 4 * workers

    def new_pool() -> Executor:
        if options.inline:
            init_worker(job.config)
            return _InlineExecutor()
        ctx = multiprocessing.get_context(options.start_method)
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                                   initargs=(job.config,))

    pool = new_pool()
    pending: dict[Future, Task] = {}
    procs: dict[int, Any] = {}
    requeued: dict[str, int] = {}

    def submit(task: Task) -> None:
        pending[pool.submit(run_item, task)] = task
        procs.update(getattr(pool, "_processes", None) or {})

    def recover() -> None:
        """A worker died: fail the item it ran, run the others again in a new pool."""
        nonlocal pool
        _end_pool(pool, kill=True)
        culprits = _culprits(procs, job.config.tmp_dir)
        again = []
        for fut, task in pending.items():
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                job.handle(fut.result())  # finished before the pool broke
            else:
                again.append(task)
        pending.clear()
        procs.clear()
        pool = new_pool()
        for task in again:
            n = requeued.get(task.item.id, 0)
            if task.item.id in culprits or n >= options.max_requeues:
                job.handle(_worker_died(task))
            else:
                requeued[task.item.id] = n + 1
                submit(task)

    def drain(block: bool) -> None:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED, timeout=None if block else 0)
        broken = False
        for fut in done:
            try:
                res = fut.result()
            except BrokenProcessPool:
                broken = True
                continue
            pending.pop(fut)
            job.handle(res)
        if broken:
            recover()

    ok = False
    try:
        for t in tasks:
            if isinstance(t, ItemResult):
                job.handle(t)
                continue
            while len(pending) >= window:
                drain(block=True)
            submit(t)
        while pending:
            drain(block=True)
        ok = True
    finally:
        _end_pool(pool, kill=not ok)

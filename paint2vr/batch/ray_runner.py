"""The Ray Data engine of run_batch: the same manifest, checks, layout, store and report.

Stages per chunk of pending tasks:

1. ``map_batches(DepthActor, concurrency=ray_depth_actors, num_gpus=1 if the cluster has
   GPUs)``: an actor pool that holds the depth model, reads a batch of inputs, checks their
   hashes against the job store's records and estimates depth for the whole batch;
2. ``map_batches(convert_rows, batch_size=1)``: CPU tasks that lift, add effects and write
   ``DIR/<shard>/<id>.glb`` (the output folder must be shared by all Ray nodes).

The driver streams the results back and records them (store, audit, progress), exactly as the
local engine does. This is the only module that imports ray.
"""

from __future__ import annotations

import logging
import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import numpy as np

from ..errors import BatchError, InputError
from ..heap import tune_heap
from .runner import (DEFAULT_BATCH_OPTIONS, BatchJob, BatchOptions, BatchReport, ProgressFn, _default_options,
                     depth_batch, get_batch_estimator)
from .worker import ItemResult, SceneFn, Task, WorkerConfig, init_worker, run_item

log = logging.getLogger(__name__)


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise BatchError("the Ray engine needs Ray Data, which is not installed",
                         hint="pip install 'paint2vr[ray]', or use --engine local") from exc
    return ray


# Rows travel between stages as one pickled object per row ('blob'): ragged images and depth
# maps inside the job's own processes, never data from outside.
def _rows(objs: list[Any]) -> dict[str, np.ndarray]:
    return {"blob": np.array([pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL) for o in objs] or [b""],
                             dtype=object)[:len(objs)]}


class DepthActor:
    """A Ray actor: holds the depth model, turns a batch of tasks into tasks with depth."""

    def __init__(self, config: WorkerConfig, estimator: Any, batch_size: int) -> None:
        init_worker(config)
        self.config = config
        self.estimator = estimator if estimator is not None else get_batch_estimator(
            config.convert_options, batch_size)
        self.io = ThreadPoolExecutor(max_workers=4)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        tasks = [pickle.loads(b) for b in batch["blob"]]
        return _rows(list(depth_batch(tasks, self.config, self.estimator, self.io)))


def convert_rows(batch: dict[str, np.ndarray], config: WorkerConfig) -> dict[str, np.ndarray]:
    """A Ray task: finish each task (lift, effects, export); results pass through unchanged."""
    tune_heap()  # once per Ray worker process
    out = []
    for blob in batch["blob"]:
        obj = pickle.loads(blob)
        out.append(run_item(obj, config) if isinstance(obj, Task) else obj)
    return _rows(out)


def _chunks(it: Iterator[Task | ItemResult], size: int) -> Iterator[list[Task | ItemResult]]:
    chunk: list[Task | ItemResult] = []
    for x in it:
        chunk.append(x)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_batch_ray(manifest: str | os.PathLike[str], out: str | os.PathLike[str],
                  options: BatchOptions = DEFAULT_BATCH_OPTIONS, convert_options: Any = None,
                  export_options: Any = None, *, on_progress: ProgressFn | None = None,
                  scene_fn: SceneFn | None = None, estimator: Any = None) -> BatchReport:
    """:func:`paint2vr.batch.run_batch` on Ray Data; uses a running Ray instance if there is one,
    else ``ray.init(address=options.ray_address or None)``."""
    ray = _import_ray()
    if options.ray_depth_actors < 1 or options.depth_batch_size < 1:
        raise InputError(f"ray_depth_actors and depth_batch_size must be >= 1, got "
                         f"{options.ray_depth_actors}, {options.depth_batch_size}")
    convert_options, export_options = _default_options(convert_options, export_options)
    job = BatchJob(manifest, out, options, convert_options, export_options, on_progress, scene_fn)
    started = False
    try:
        if not ray.is_initialized():
            ray.init(address=options.ray_address or None, include_dashboard=False, log_to_driver=False)
            started = True
        gpus = float(ray.cluster_resources().get("GPU", 0))
        cpus = int(ray.cluster_resources().get("CPU", 1))
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        # Pending tasks go to Ray a chunk at a time, so the driver's memory stays flat.
        for chunk in _chunks(job.tasks(), max(64, options.manifest.chunk_rows)):
            tasks = [t for t in chunk if isinstance(t, Task)]
            for r in chunk:
                if isinstance(r, ItemResult):
                    job.handle(r)
            if not tasks:
                continue
            ds = ray.data.from_items([{"blob": pickle.dumps(t, protocol=pickle.HIGHEST_PROTOCOL)} for t in tasks],
                                     override_num_blocks=max(1, min(len(tasks) // options.depth_batch_size, 4 * cpus)))
            ds = ds.map_batches(DepthActor, fn_constructor_args=(job.config, estimator, options.depth_batch_size),
                                batch_size=options.depth_batch_size, batch_format="numpy",
                                concurrency=options.ray_depth_actors, num_gpus=1 if gpus >= 1 else 0)
            ds = ds.map_batches(convert_rows, fn_args=(job.config,), batch_size=1, batch_format="numpy",
                                num_cpus=1)
            for row in ds.iter_rows():
                job.handle(pickle.loads(row["blob"]))
    except KeyboardInterrupt:
        job.interrupted = True
        raise
    finally:
        report = job.close("ray", int(ray.cluster_resources().get("CPU", 0)) if ray.is_initialized() else 0)
        if started:
            ray.shutdown()
    return report

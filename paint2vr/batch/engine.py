"""run_batch: one entry point, the engine chosen by ``BatchOptions.engine``.

Kept apart from both engines so that neither imports the other (the Ray engine reuses the
local one's job bookkeeping, and Ray itself is only imported when asked for).
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import InputError
from .runner import DEFAULT_BATCH_OPTIONS, BatchOptions, BatchReport, ProgressFn, run_local
from .worker import SceneFn


def run_batch(manifest: str | os.PathLike[str], out: str | os.PathLike[str],
              options: BatchOptions = DEFAULT_BATCH_OPTIONS, convert_options: Any = None,
              export_options: Any = None, *, on_progress: ProgressFn | None = None,
              scene_fn: SceneFn | None = None, estimator: Any = None) -> BatchReport:
    """Convert every painting of ``manifest`` into ``out/<shard>/<id>.glb``.

    Checks the whole manifest first (ManifestError lists every bad row; nothing is written),
    locks ``out`` (BatchError if another run holds it), skips items already done with the same
    input and options, records failures without stopping, and writes report.json and
    audit.jsonl. ``estimator`` (an object with ``.estimate(list of rgb)``) replaces the depth
    model and makes depth run batched in the main process (local engine) or in the depth
    actors (Ray); ``scene_fn`` replaces pipeline.convert in the workers (it must be picklable).
    """
    if options.engine == "ray":
        from .ray_runner import run_batch_ray
        return run_batch_ray(manifest, out, options, convert_options, export_options,
                             on_progress=on_progress, scene_fn=scene_fn, estimator=estimator)
    if options.engine != "local":
        raise InputError(f"unknown engine {options.engine!r}", hint="local or ray")
    return run_local(manifest, out, options, convert_options, export_options,
                     on_progress=on_progress, scene_fn=scene_fn, estimator=estimator)

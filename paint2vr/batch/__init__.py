"""Batch conversion: a manifest of paintings -> sharded GLB scenes, resumable, audited.

    from paint2vr.batch import run_batch, BatchOptions
    report = run_batch("manifest.csv", "out/", BatchOptions(workers=2))

See docs/batch.md for the manifest format, the output layout and the report.
"""

from .layout import check_no_escaping_symlinks, output_relpath, shard_of
from .manifest import (ALLOWED_SCHEMES, DEFAULT_MANIFEST_OPTIONS, ManifestItem, ManifestOptions,
                       ManifestSummary, check_manifest, iter_manifest)
from .engine import run_batch
from .runner import DEFAULT_BATCH_OPTIONS, BatchJob, BatchOptions, BatchReport, Progress
from .state import ItemRecord, JobStore
from .worker import ItemResult, Task, WorkerConfig

__all__ = ["ALLOWED_SCHEMES", "BatchJob", "BatchOptions", "BatchReport", "DEFAULT_BATCH_OPTIONS",
           "DEFAULT_MANIFEST_OPTIONS", "ItemRecord", "ItemResult", "JobStore", "ManifestItem",
           "ManifestOptions", "ManifestSummary", "Progress", "Task", "WorkerConfig",
           "check_manifest", "check_no_escaping_symlinks", "iter_manifest", "output_relpath",
           "run_batch", "shard_of"]

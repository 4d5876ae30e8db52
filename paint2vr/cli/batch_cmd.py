"""paint2vr batch MANIFEST --out DIR"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from .convert_cmd import add_convert_options, convert_options_from_args
from .options import add_options, options_from_args


def register(sub: argparse._SubParsersAction) -> None:
    from ..batch.manifest import ManifestOptions
    from ..batch.runner import BatchOptions
    p = sub.add_parser(
        "batch", help="convert every painting of a manifest (CSV, JSONL, Parquet), resumably",
        description="Convert the paintings listed in a manifest into DIR/<shard>/<id>.glb. The manifest is "
                    "checked first (every bad row is listed; nothing is written). Items already done "
                    "with the same input and options are skipped, so a killed run resumes where it "
                    "stopped. Writes DIR/report.json and DIR/audit.jsonl. See docs/batch.md.")
    p.add_argument("manifest", help="the manifest: .csv, .jsonl or .parquet (columns id, path, license, "
                                    "attribution; optional title, artist, options)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress display (a bar in a terminal, a line every 10 s in logs)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a summary")
    add_options(p, BatchOptions, title="batch")
    add_options(p, ManifestOptions, title="manifest")
    add_convert_options(p)
    p.set_defaults(run=run)


def _progress(enabled: bool) -> tuple[Any, Any]:
    """(callback, closer): the CLI's progress display (a bar in a terminal, plain lines in logs),
    opened at the first item, when the total is known."""
    state: dict[str, Any] = {}
    if not enabled:
        return None, lambda: None
    from .progress import ProgressDisplay

    def on_progress(p: Any) -> None:
        display = state.get("display")
        if display is None:
            display = state["display"] = ProgressDisplay("batch", p.total, unit="painting").__enter__()
        display.update(p.finished, done=p.done, skipped=p.skipped, failed=p.failed)

    def close() -> None:
        if "display" in state:
            state.pop("display").__exit__(None, None, None)

    return on_progress, close


def run(args: argparse.Namespace) -> int:
    from ..batch.manifest import ManifestOptions
    from ..batch import BatchOptions, run_batch
    from ..errors import ManifestError
    options = options_from_args(args, BatchOptions)
    options = dataclasses.replace(options, manifest=options_from_args(args, ManifestOptions))
    convert_options, export_options = convert_options_from_args(args)
    on_progress, close = _progress(not args.no_progress)
    try:
        report = run_batch(args.manifest, args.out, options, convert_options, export_options,
                           on_progress=on_progress)
    except ManifestError as exc:
        close()
        for line, msg in exc.problems:
            print(f"{args.manifest}:{line}: {msg}", file=sys.stderr)
        raise
    finally:
        close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(f"{report.out}: {report.done} done, {report.skipped} skipped, {report.failed} failed "
              f"of {report.total} in {report.seconds:.1f} s ({report.items_per_second:.2f}/s, "
              f"{report.engine}, {report.workers} worker(s))")
        if report.stages:
            print("  time per item: " + ", ".join(f"{k} {v['mean'] * 1000:.0f} ms"
                                                  for k, v in report.stages.items()))
        if report.failures:  # each was logged once as it happened: not repeated here
            print(f"  failures: {report.out}/report.json (and audit.jsonl)")
    return 0 if report.failed == 0 else 1

"""paint2vr preview scene.glb -o preview.mp4|.gif|.png [--motion walk] ; paint2vr preview DIR -o sheet.png ;
paint2vr preview scene.glb|DIR --look-around -o sheet.png"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..preview import PreviewOptions, SheetOptions
from .progress import ProgressDisplay
from .options import add_options, options_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preview", help="render a preview clip, a still, or a contact sheet of a folder",
                       description="Render offscreen (no display, no GPU) a short camera move inside the "
                                   "walkable zone with the animations playing (.mp4 or .gif), or a still "
                                   "(.png). Given a folder, render one tile per scene (*.glb, recursive) "
                                   "into a labelled contact sheet (.png or .jpg).")
    p.add_argument("source", help="a .glb/.gltf scene, or a folder of scenes")
    p.add_argument("-o", "--output", required=True, help="output .mp4, .gif or .png (.png/.jpg for a folder)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    add_options(p, PreviewOptions, title="preview")
    add_options(p, SheetOptions, title="contact sheet (when SOURCE is a folder)")
    p.set_defaults(run=run)


def _progress(quiet: bool, unit: str = "frame"):
    """The CLI's progress display (a bar in a terminal, a plain line every 10 s in logs: no
    carriage returns), opened at the first report and closed at the last."""
    state: dict[str, ProgressDisplay] = {}

    def report(done: int, total: int, path: Path | None = None) -> None:
        if quiet:
            return
        if "display" not in state:
            state["display"] = ProgressDisplay("preview", total, unit=unit).__enter__()
        state["display"].update(done)
        if done >= total:
            state.pop("display").__exit__(None, None, None)
    return report


def run(args: argparse.Namespace) -> int:
    from ..preview import contact_sheet, look_around_sheet, preview
    t0 = time.perf_counter()
    options = options_from_args(args, PreviewOptions)
    source = Path(args.source)
    if source.is_dir() or options.look_around:
        sheet = look_around_sheet if options.look_around else contact_sheet
        result = sheet(source, args.output, options_from_args(args, SheetOptions), options,
                       progress=_progress(args.quiet, "view" if options.look_around else "scene"))
        for path, error in result.failures:
            print(f"paint2vr: warning: {path}: {error}", file=sys.stderr)
        print(f"{result.path}  {result.count} scenes  {len(result.failures)} failed  "
              f"{time.perf_counter() - t0:.1f} s")
        return 1 if result.failures and len(result.failures) == result.count else 0
    out = preview(source, args.output, options, progress=_progress(args.quiet))
    print(f"{out}  {out.stat().st_size / 2**20:.2f} MiB  {time.perf_counter() - t0:.1f} s")
    return 0

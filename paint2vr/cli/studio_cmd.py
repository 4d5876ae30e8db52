"""paint2vr studio PAINTING|BATCH_DIR: the designers' editor (docs/studio.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..studio.server import DEFAULT_STUDIO_OPTIONS
from .convert_cmd import add_convert_options, convert_options_from_args
from .view_cmd import serve_until_stopped


def register(sub: argparse._SubParsersAction) -> None:
    d = DEFAULT_STUDIO_OPTIONS
    p = sub.add_parser(
        "studio", help="edit a painting's depth, sky, layers and effects in the browser",
        description="Open a local web editor: the painting with depth, layer and sky overlays beside a live "
                    "3D view. Drag the horizon, paint sky, set regions' depth, pin depths, drop layers, switch "
                    "effects; Save writes PAINTING's edits file (STEM.edits.json beside it, or in --out), which "
                    "'convert --edits', 'depth --edits' and batch manifests apply. Given a batch output folder, "
                    "it lists the scenes least sure first; saving an item marks it for "
                    "'paint2vr batch MANIFEST --out DIR --rerun-edited'.")
    p.add_argument("target", help="a painting image, or a batch output folder (its review queue)")
    p.add_argument("--out", default=None, help="folder for a single painting's edits file (default: beside it)")
    p.add_argument("--port", type=int, default=d.port, help=f"TCP port, 0 for any free one (default: {d.port})")
    p.add_argument("--no-browser", dest="open_browser", action="store_false", default=d.open_browser,
                   help="do not open a web browser")
    add_convert_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..studio import batch_items, single_item, studio_server
    options, _ = convert_options_from_args(args)
    target = Path(args.target)
    queue = target.is_dir()
    items = batch_items(target) if queue else [single_item(target, args.out)]
    server = studio_server(items, queue_mode=queue, options=options, host=DEFAULT_STUDIO_OPTIONS.host,
                           port=args.port)
    what = f"the review queue of {target} ({len(items)} scenes)" if queue else f"{target} (edits: {items[0].edits})"
    return serve_until_stopped(server, f"Studio for {what}", args.open_browser)

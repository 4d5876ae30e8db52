"""paint2vr depth PAINTING -o depth.png|depth.npy"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..pipeline import ConvertOptions
from .options import add_tree_options, tree_changes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "depth", help="estimate a painting's depth map and write it for editing",
        description="Estimate depth and write it as .npy (float32 metres, nearer = smaller) or as a "
                    "16-bit PNG for painting over in an image editor; feed it back with "
                    "'paint2vr convert --depth FILE'.")
    p.add_argument("painting", help="the painting image")
    p.add_argument("-o", "--output", required=True, help="output depth file: .png (16-bit) or .npy (metres)")
    add_tree_options(p, ConvertOptions, exclude=("seed", "lift", "effects", "export", "depth.file", "depth.read"))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..depth import write_depth
    from ..painting import load_painting
    from ..pipeline import convert_options, estimate_or_read_depth
    t0 = time.perf_counter()
    options = convert_options(tree_changes(args))
    painting = load_painting(args.painting, options=options.load)
    depth = estimate_or_read_depth(painting, options)  # the depth stage, then the designer's edits
    out = write_depth(depth, Path(args.output))
    land = depth.depth[~depth.sky] if (~depth.sky).any() else depth.depth
    print(f"{out}  {depth.shape[1]}x{depth.shape[0]}  land {float(land.min()):.2f}-{float(land.max()):.2f} m  "
          f"sky {float(depth.sky.mean()):.0%}  model {depth.model.name}  {time.perf_counter() - t0:.2f} s")
    return 0

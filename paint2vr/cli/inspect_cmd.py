"""paint2vr inspect scene.glb [--json]"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    from ..export.profiles import PROFILES
    p = sub.add_parser("inspect", help="show what a GLB / glTF file holds and check its budgets",
                       description="Show a scene file's provenance (title, artist, licence, source hash, "
                                   "depth model), layers, triangles, draw calls, textures and animations, "
                                   "and its size against the export profile's budgets.")
    p.add_argument("file", help="a .glb or .gltf file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--profile", choices=list(PROFILES), default=None,
                   help="check against this profile (default: the one recorded in the file)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..export.inspect import inspect_file
    report = inspect_file(args.file, profile=args.profile)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        print(report.format_report())
    return 0 if report.within_budget else 1

"""paint2vr viewer install-assets: put three.js where an installed paint2vr's viewer finds it."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("viewer", help="set up the WebXR viewer (three.js) for an installed paint2vr",
                       description="three.js is not shipped in the wheel: 'install-assets' installs the "
                                   "pinned version with npm, or copies it from a node_modules folder, into "
                                   "the user data folder ($PAINT2VR_DATA or ~/.local/share/paint2vr).")
    vsub = p.add_subparsers(dest="viewer_command", metavar="ACTION", required=True)
    inst = vsub.add_parser("install-assets", help="install three.js for 'paint2vr view'")
    inst.add_argument("--from", dest="source", default=None, metavar="NODE_MODULES",
                      help="copy three/ from this node_modules folder instead of running npm (offline)")
    inst.add_argument("--npm", default=None, help="the npm program to run (default: npm on PATH)")
    inst.set_defaults(run=run_install)


def run_install(args: argparse.Namespace) -> int:
    from ..viewer.assets import install_assets, three_version
    path = install_assets(args.source, npm=args.npm)
    print(f"three.js {three_version(path)}: {path}")
    return 0

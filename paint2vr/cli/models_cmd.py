"""paint2vr models list | pull NAME"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the depth models paint2vr knows, or download one",
                       description="The registry of depth checkpoints (registry.toml, shipped with paint2vr) with the "
                                   "licence each model card states and whether it allows commercial use.")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = msub.add_parser("list", help="print the registry")
    ls.add_argument("--commercial", action="store_true", help="only models whose licence allows commercial use")
    ls.set_defaults(run=run_list)
    pull = msub.add_parser("pull", help="download a model's safetensors weights (needs a network)")
    pull.add_argument("name", help="registry name, see 'paint2vr models list'")
    pull.add_argument("--dest", default=None, help="target folder (default: the user cache, $PAINT2VR_CACHE or ~/.cache/paint2vr/models/NAME)")
    pull.set_defaults(run=run_pull)


def run_list(args: argparse.Namespace) -> int:
    from ..depth.registry import load_registry
    entries = [e for e in load_registry().values() if e.commercial_use or not args.commercial]
    rows = [("name", "kind", "input", "licence", "commercial", "hub id")]
    rows += [(e.name, e.kind, str(e.input_size), e.license, "yes" if e.commercial_use else "NO",
              f"{e.hub_id}@{e.revision}") for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    notes = [e for e in entries if e.note]
    if notes:
        print()
        for e in notes:
            print(f"note: {e.name}: {e.note}")
    print("\nprior (built in): no weights, Apache-2.0, commercial use allowed; the default")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    from ..depth.registry import pull
    path = pull(args.name, args.dest)
    print(f"{args.name}: {path}")
    return 0

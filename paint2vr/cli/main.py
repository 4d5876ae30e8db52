"""``paint2vr``: the entry point. Each sub-command lives in its own module with
``register(subparsers)`` and ``run(args) -> int``; errors become one line and an exit code."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

from ..errors import Paint2VRError
from ..heap import tune_heap

COMMANDS = ("convert", "depth", "effects", "models", "inspect", "view", "viewer", "studio", "preview", "batch",
            "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paint2vr",
        description="Turn paintings into layered, animated 3D scenes (GLB) for VR headsets.",
        epilog="Run 'paint2vr COMMAND --help' for each command's options.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__package__}.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}_cmd":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    tune_heap()  # process-wide: the command line owns its process
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="paint2vr: %(levelname)s: %(message)s")
    if args.version:
        from ..export.provenance import package_version
        print(f"paint2vr {package_version()}")
        return 0
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe shows up here, not at exit
        return code
    except Paint2VRError as exc:
        if args.debug:
            raise
        print(f"paint2vr: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", 2)  # errors.Interrupted: SIGTERM is stopped like Ctrl+C
        print("paint2vr: interrupted" + (" (SIGTERM)" if signum == 15 else ""), file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:  # 'paint2vr inspect x.glb | head': the reader left, not an error
        _silence_stdout()
        return 141
    except MemoryError:
        if args.debug:
            raise
        print("paint2vr: error: out of memory (lower --max-side or --max-triangles)", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again."""
    import os
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

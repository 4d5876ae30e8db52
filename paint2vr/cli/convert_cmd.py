"""paint2vr convert PAINTING -o scene.glb"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..export import ExportOptions, save_scene
from ..io.atomic import check_target, write_failed
from ..painting import PaintingInfo
from ..pipeline import DEFAULT_CONVERT_OPTIONS, ConvertOptions
from ..scene import Scene
from .options import add_tree_options, read_config, tree_changes


def add_convert_options(p: argparse.ArgumentParser) -> None:
    """Flags shared by convert and batch, all generated from the options tree (ConvertOptions)."""
    p.add_argument("--config", metavar="FILE", help="options file (.toml or .json) holding the options tree, "
                   "e.g. [lift] max_layers = 4; flags given here override it (docs/guide.md)")
    add_tree_options(p, ConvertOptions)
    p.add_argument("--effect-opt", action="append", default=[], metavar="EFFECT.FIELD=VALUE",
                   help="per-effect option, repeatable, for example snow.density=2; the effect must be in "
                        "--effects (or --effects auto). 'paint2vr effects list' shows every option")


def convert_options_from_args(args: argparse.Namespace) -> tuple[ConvertOptions, ExportOptions]:
    """The options tree: the --config file, then the flags typed, through the one coercion."""
    from ..effects.registry import effect_option_items
    from ..pipeline import convert_options
    base = convert_options(read_config(args.config)) if getattr(args, "config", None) else DEFAULT_CONVERT_OPTIONS
    changes = tree_changes(args)
    for name, fields in effect_option_items(getattr(args, "effect_opt", []) or []).items():
        changes.setdefault("effects", {}).setdefault(name, {}).update(fields)
    opts = convert_options(changes, base)
    return opts, opts.export


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert one painting into a GLB scene",
                       description="Convert one painting into a layered, animated GLB scene for VR. "
                                   "Works offline with the built-in depth prior (no model weights).")
    p.add_argument("painting", help="the painting image (JPEG, PNG, WebP, TIFF, ...)")
    p.add_argument("-o", "--output", required=True, help="output file: .glb (default for headsets), .gltf (+ .bin and textures) or .ply (layered point cloud)")
    p.add_argument("--title", default="", help="title of the work (provenance)")
    p.add_argument("--artist", default="", help="artist (provenance)")
    p.add_argument("--license", default="", help="licence under which the image is used (provenance)")
    p.add_argument("--attribution", default="", help="attribution line (becomes asset.copyright)")
    p.add_argument("--id", default="", help="the painting's id in its collection (default: file name)")
    add_convert_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..pipeline import convert
    t0 = time.perf_counter()
    options, export_options = convert_options_from_args(args)
    info = PaintingInfo(id=args.id, title=args.title, artist=args.artist, license=args.license,
                        attribution=args.attribution)
    out = Path(args.output)
    if out.suffix.lower() not in (".glb", ".gltf", ".ply"):
        from ..errors import InputError
        raise InputError(f"{out}: unsupported output type {out.suffix!r}", hint="use .glb, .gltf or .ply")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed(out, exc) from None
    check_target(out)  # before the work: a directory named x.glb, a name too long, an immutable file
    scene = convert(args.painting, options, info)
    if options.effects.auto:
        why = scene.provenance.get("effects_auto", {})
        print("effects auto: " + ("; ".join(f"{n} ({r})" for n, r in why.items()) or "none suits this painting"))
    save_scene(scene, out, export_options)
    print(f"{summary(out, scene, export_options)}  {time.perf_counter() - t0:.2f} s")
    return 0


def summary(out: Path, scene: Scene, export_options: ExportOptions) -> str:
    """What the written file holds, read back from it: bytes on disk (a .gltf with its .bin and
    textures), triangles or points (a points/splat profile or a PLY holds no triangles), and
    the depth layers and sky (as 'lifted into N layers' logs them)."""
    n_layers = sum(1 for l in scene.layers if l.kind == "layer")
    layers = f"{n_layers} layer{'s' * (n_layers != 1)}" + (" + sky" if any(l.kind == "sky" for l in scene.layers) else "")
    if out.suffix.lower() == ".ply":
        size, counts = out.stat().st_size, f"{_ply_vertices(out):,} points"
    else:
        from ..export.inspect import inspect_file
        rep = inspect_file(out)
        unit = "splats" if export_options.profile == "splat" else "points"
        size = rep.file_bytes
        counts = "  ".join([f"{rep.triangles:,} triangles"] * bool(rep.triangles or not rep.points)
                           + [f"{rep.points:,} {unit}"] * bool(rep.points))
    return f"{out}  {size / 2**20:.2f} MiB  {counts}  {layers}"


def _ply_vertices(path: Path) -> int:
    with path.open("rb") as fh:
        for raw in fh:
            line = raw.decode("ascii", "replace").strip()
            if line.startswith("element vertex "):
                return int(line.split()[-1])
            if line == "end_header":
                break
    return 0

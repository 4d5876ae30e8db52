"""Layer edges in Blender's Eevee: does a paint2vr GLB show dark seams along layer silhouettes?

Converts each painting (desktop profile: Blender's glTF importer reads neither KTX2 nor
meshopt), imports the GLB with Blender's own glTF importer, renders it with Eevee from the
file's start camera (the painter's eye, so the view is the painting's frame), renders it a
second time with each object a flat ID colour (the same alpha clipping, one sample), and
counts *dark seam pixels*: pixels on a layer's silhouette (the ID changes within one pixel, a
layer on one side) that are darker than every painting pixel around them (5 x 5, the painting
resized to the render) by more than ``DARK_MARGIN``. Beside it the same count off the edges,
where only the scene's other errors (depth, inpainting) can make a pixel darker.

Both with and without the writer's edge bleeding (``--no-bleed``: the textures as the lift
left them), measured in one run.

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD .venv/bin/python bench/eevee_check.py \
        --blender /tmp/bpyenv/bin/python [--out DIR] [--width PX] [--samples N] [painting ...]

``--blender`` is a Python with the ``bpy`` module (``pip install bpy==4.5.15`` in its own
venv) or a ``blender`` executable (Debian's 3.4: ``apt-get install blender``); the default is
``$P2V_BLENDER``, else ``blender`` on the PATH. Without paintings, Hunters in the Snow and the
sample painting. With --out DIR the GLBs, the renders, the ID maps and zoomed crops of the
worst edges are kept in DIR. The same file runs inside Blender (``render_in_blender``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DARK_MARGIN = 24
"""Levels (of 255, luma) a render pixel must be darker than all painting pixels near it to count."""
BORDER = 3
"""Pixels at the frame's sides left out of the counts (resampling differs there)."""
ID_STEP = 16
"""sRGB levels between two objects' ID colours (16 objects at most; decoding rounds)."""


# --- inside Blender -----------------------------------------------------------------------

def render_in_blender(glb: str, out: str, width: int, samples: int) -> None:
    """Import ``glb``, render it from its camera with Eevee to ``out``/eevee.png, then with flat
    ID colours to ``out``/ids.png; ``out``/ids.json names the object of each ID."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=glb)
    scene = bpy.context.scene
    engines = {e.identifier for e in bpy.types.RenderSettings.bl_rna.properties["engine"].enum_items}
    scene.render.engine = "BLENDER_EEVEE_NEXT" if "BLENDER_EEVEE_NEXT" in engines else "BLENDER_EEVEE"
    cams = [o for o in scene.objects if o.type == "CAMERA"]
    scene.camera = cams[0]
    cam = cams[0].data
    aspect = cam.sensor_width / cam.sensor_height if cam.sensor_fit == "VERTICAL" else None
    # The importer keeps glTF's aspect ratio in the sensor fit; the render's shape sets it.
    ratio = float(cams[0].get("aspect", 0) or 0) or _gltf_aspect(glb) or aspect or 16 / 9
    scene.render.resolution_x = width
    scene.render.resolution_y = max(1, round(width / ratio))
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    scene.render.dither_intensity = 0.0  # exact colours (no noise added on 8-bit output)
    scene.render.filter_size = 0.01  # one pixel's samples only, as a rasteriser's view
    scene.view_settings.view_transform = "Standard"  # unlit colours shown as stored
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0.0
    scene.view_settings.gamma = 1.0
    scene.eevee.taa_render_samples = samples
    if scene.world is None:
        scene.world = bpy.data.worlds.new("black")
    scene.world.color = (0.0, 0.0, 0.0)
    if scene.world.use_nodes:
        bg = scene.world.node_tree.nodes.get("Background")
        if bg is not None:
            bg.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
    for o in scene.objects:  # files before the walk meshes were stored uninstanced: hide the navmesh
        if o.type == "MESH" and o.get("paint2vr_role") == "navmesh" or o.name.startswith("paint2vr_navmesh"):
            o.hide_render = True
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    scene.render.image_settings.color_depth = "8"
    materials = {}
    for o in scene.objects:
        if o.type == "MESH" and not o.hide_render:
            for slot in o.material_slots:
                if slot.material is not None:
                    materials.setdefault(slot.material.name, (slot.material, o.name))
    info = {"blender": bpy.app.version_string, "engine": scene.render.engine,
            "size": [scene.render.resolution_x, scene.render.resolution_y],
            "materials": {name: {"blend_method": getattr(m, "blend_method", None),
                                 "surface_render_method": getattr(m, "surface_render_method", None),
                                 "alpha_threshold": getattr(m, "alpha_threshold", None)}
                          for name, (m, _) in materials.items()}}
    t = time.time()
    scene.render.filepath = os.path.join(out, "eevee.png")
    bpy.ops.render.render(write_still=True)
    info["render_s"] = round(time.time() - t, 2)
    ids = {}
    for k, (name, (mat, obj)) in enumerate(sorted(materials.items()), start=1):
        s = k * ID_STEP / 255.0
        lin = s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
        for node in mat.node_tree.nodes:
            if node.bl_idname == "ShaderNodeEmission":
                sock = node.inputs["Color"]
                for link in list(sock.links):
                    mat.node_tree.links.remove(link)
                sock.default_value = (lin, lin, lin, 1.0)
        ids[k] = obj
    scene.eevee.taa_render_samples = 1
    scene.render.filepath = os.path.join(out, "ids.png")
    bpy.ops.render.render(write_still=True)
    info["ids"] = ids
    with open(os.path.join(out, "ids.json"), "w") as f:
        json.dump(info, f, indent=1)


def _gltf_aspect(glb: str) -> float | None:
    import struct
    with open(glb, "rb") as f:
        head = f.read(20)
        n = struct.unpack("<I", head[12:16])[0]
        doc = json.loads(f.read(n))
    for cam in doc.get("cameras", []):
        r = cam.get("perspective", {}).get("aspectRatio")
        if r:
            return float(r)
    return None


def _blender_main(argv: list[str]) -> None:
    glb, out, width, samples = argv[0], argv[1], int(argv[2]), int(argv[3])
    render_in_blender(glb, out, width, samples)


# --- outside Blender: convert, call Blender, measure ---------------------------------------

def find_blender(explicit: str | None = None) -> list[str] | None:
    """The command that runs this file inside Blender: a Python with ``bpy`` or a ``blender``
    executable; None when there is neither."""
    cand = explicit or os.environ.get("P2V_BLENDER") or shutil.which("blender")
    if not cand:
        return None
    path = shutil.which(cand) or cand
    if not os.path.exists(path):
        return None
    if "python" in os.path.basename(path):
        return [path, str(Path(__file__).resolve()), "--inside-blender"]
    return [path, "-b", "--factory-startup", "--python", str(Path(__file__).resolve()), "--", "--inside-blender"]


def luma(rgb):
    """uint8 (h, w, 3) -> float (h, w) Rec. 601 luma in levels."""
    import numpy as np
    return np.asarray(rgb, np.float32)[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)


def decode_ids(ids_rgb):
    """The ID render (uint8 RGB) -> int (h, w) object IDs (0: nothing drawn)."""
    import numpy as np
    return np.rint(np.asarray(ids_rgb, np.float32)[..., 0] / ID_STEP).astype(np.int32)


def layer_edges(ids, layer_ids):
    """bool (h, w): pixels with a 4-neighbour of another ID, a layer on one side or the other."""
    import numpy as np
    ids = np.asarray(ids)
    is_layer = np.isin(ids, list(layer_ids))
    edge = np.zeros(ids.shape, bool)
    for a, b in (((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
                 ((slice(1, None), slice(None)), (slice(None, -1), slice(None)))):
        diff = (ids[a] != ids[b]) & (is_layer[a] | is_layer[b])
        edge[a] |= diff
        edge[b] |= diff
    return edge


def dark_pixels(render, reference, margin: float = DARK_MARGIN):
    """bool (h, w): render pixels darker than every reference pixel within 2 (5 x 5) by more
    than ``margin`` levels of luma (the window forgives a pixel of misregistration)."""
    import cv2
    import numpy as np
    ref_min = cv2.erode(luma(reference), np.ones((5, 5), np.uint8), borderType=cv2.BORDER_REPLICATE)
    return luma(render) < ref_min - margin


def measure(render, ids, reference, layer_ids) -> dict:
    """Dark seam pixels on layer edges and the same measure off them."""
    import numpy as np
    edge = layer_edges(ids, layer_ids)
    dark = dark_pixels(render, reference)
    drawn = np.asarray(ids) > 0
    # the frame's outer pixels: the resized painting's border is no reference for them
    drawn[:BORDER] = drawn[-BORDER:] = False
    drawn[:, :BORDER] = drawn[:, -BORDER:] = False
    edge &= drawn
    off = drawn & ~edge
    # pixels no object covers (the black world colour shows): holes, not texture colour
    frame = np.zeros(drawn.shape, bool)
    frame[BORDER:-BORDER, BORDER:-BORDER] = True
    empty = frame & (np.asarray(ids) == 0)
    return {"empty_px": int(empty.sum()),
            "empty_mean_luma": round(float(luma(render)[empty].mean()), 1) if empty.any() else None,
            "edge_px": int(edge.sum()), "dark_edge_px": int((dark & edge).sum()),
            "dark_edge_per_mille": round(1000 * float((dark & edge).sum()) / max(1, int(edge.sum())), 2),
            "off_edge_px": int(off.sum()), "dark_off_edge_px": int((dark & off).sum()),
            "dark_off_edge_per_mille": round(1000 * float((dark & off).sum()) / max(1, int(off.sum())), 2)}


def worst_crop(mask, size: int = 48):
    """(y, x) top-left of the ``size`` square holding most True pixels of ``mask``."""
    import cv2
    import numpy as np
    m = np.asarray(mask, np.float32)
    box = cv2.boxFilter(m, -1, (size, size), normalize=False, borderType=cv2.BORDER_CONSTANT)
    y, x = np.unravel_index(int(np.argmax(box)), box.shape)
    h, w = m.shape
    return (int(min(max(0, y - size // 2), h - size)), int(min(max(0, x - size // 2), w - size)))


def _convert(painting: Path, out: Path, bleed: bool) -> None:
    import paint2vr
    from paint2vr.export import ExportOptions, export_bytes
    from paint2vr.export import gltf as gltf_mod
    saved = gltf_mod.bleed_edge_colours
    if not bleed:
        gltf_mod.bleed_edge_colours = lambda tex, *a, **k: tex.copy()
    try:
        scene = paint2vr.convert(str(painting))
        out.write_bytes(export_bytes(scene, ExportOptions(profile="desktop")))
    finally:
        gltf_mod.bleed_edge_colours = saved


def main(argv: list[str] | None = None) -> int:
    import argparse

    import numpy as np
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paintings", nargs="*")
    ap.add_argument("--blender", help="a Python with bpy, or a blender executable")
    ap.add_argument("--out", help="keep GLBs, renders and crops here")
    ap.add_argument("--width", type=int, default=0, help="render width (default: the painting's, at most 1280)")
    ap.add_argument("--samples", type=int, default=8, help="Eevee samples for the colour render")
    ap.add_argument("--no-bleed", action="store_true", help="only the textures without edge bleeding")
    args = ap.parse_args(argv)
    cmd = find_blender(args.blender)
    if cmd is None:
        print("no Blender: pass --blender (a Python with bpy, or blender) or set P2V_BLENDER", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT / "tests"))
    from p2v_testing import painting_paths  # noqa: E402
    paintings = [Path(p) for p in args.paintings] or [
        p for p in painting_paths() if p.stem == "hunters_in_the_snow"] + [ROOT / "assets" / "sample_painting.png"]
    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="eevee_check_"))
    work.mkdir(parents=True, exist_ok=True)
    variants = [False] if args.no_bleed else [False, True]
    results = []
    for painting in paintings:
        img = np.asarray(Image.open(painting).convert("RGB"))
        width = args.width or min(1280, img.shape[1])
        renders = {}
        for bleed in variants:
            tag = f"{painting.stem}_{'bleed' if bleed else 'nobleed'}"
            d = work / tag
            d.mkdir(exist_ok=True)
            glb = d / "scene.glb"
            _convert(painting, glb, bleed)
            t = time.time()
            proc = subprocess.run(cmd + [str(glb), str(d), str(width), str(args.samples)],
                                  capture_output=True, text=True)
            if proc.returncode != 0 or not (d / "ids.json").exists():
                print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
                return 1
            info = json.loads((d / "ids.json").read_text())
            render = np.asarray(Image.open(d / "eevee.png").convert("RGB"))
            ids = decode_ids(np.asarray(Image.open(d / "ids.png").convert("RGB")))
            h, w = render.shape[:2]
            ref = np.asarray(Image.fromarray(img).resize((w, h), Image.LANCZOS))
            layers = [int(k) for k, name in info["ids"].items() if name.startswith("layer")]
            row = {"painting": painting.name, "bleed": bleed, "size": f"{w}x{h}",
                   "blender": info["blender"], "engine": info["engine"],
                   "layer_alpha": sorted({(m["blend_method"], m["surface_render_method"])
                                          for n, m in info["materials"].items() if n.startswith("layer")}),
                   "render_s": info["render_s"], "blender_wall_s": round(time.time() - t, 1),
                   **measure(render, ids, ref, layers)}
            results.append(row)
            print(json.dumps(row))
            seams = layer_edges(ids, layers) & dark_pixels(render, ref)
            seams[:BORDER] = seams[-BORDER:] = False
            seams[:, :BORDER] = seams[:, -BORDER:] = False
            renders[bleed] = (render, seams)
            Image.fromarray(ref).save(d / "painting.png")
        if args.out:
            _crops(work / f"{painting.stem}_crops.png", ref, renders)
    if args.out:
        (work / "results.json").write_text(json.dumps(results, indent=1))
    return 0


def _crops(path: Path, ref, renders, size: int = 48, zoom: int = 6, n: int = 3) -> None:
    """The ``n`` worst ``size`` px squares (most dark edge pixels without bleeding), zoomed:
    painting | without bleeding | with (dark seam pixels marked red in a fourth column)."""
    import cv2
    import numpy as np
    from PIL import Image
    mask = renders.get(False, next(iter(renders.values())))[1].copy()
    rows = []
    for _ in range(n):
        y, x = worst_crop(mask, size)
        tiles = [ref[y:y + size, x:x + size]] + [r[y:y + size, x:x + size] for r, _ in renders.values()]
        marked = tiles[1].copy()
        marked[renders[next(iter(renders))][1][y:y + size, x:x + size]] = (255, 0, 0)
        tiles.append(marked)
        rows.append(np.concatenate([cv2.resize(t, (size * zoom, size * zoom), interpolation=cv2.INTER_NEAREST)
                                    for t in tiles], axis=1))
        mask[y:y + size, x:x + size] = False
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


if __name__ == "__main__":
    if "--inside-blender" in sys.argv:
        _blender_main(sys.argv[sys.argv.index("--inside-blender") + 1:])
    else:
        sys.exit(main())

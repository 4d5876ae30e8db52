"""Helpers for the batch tests: tiny generated paintings, manifests, a fake scene function and
a fake depth estimator (module-level, so worker processes can unpickle them)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.painting import load_painting
from paint2vr.scene import Layer, Mesh, Node, Scene, camera_for_image

FIELDS = ("id", "path", "license", "attribution", "title", "artist", "options")


def make_png(path: Path, seed: int, size: tuple[int, int] = (64, 48)) -> Path:
    from PIL import Image
    rng = np.random.default_rng(seed)
    w, h = size
    sky = np.linspace(200, 120, h // 2)[:, None, None] * np.array([0.6, 0.8, 1.0])
    ground = rng.integers(30, 120, (h - h // 2, w, 3))
    img = np.concatenate([np.broadcast_to(sky, (h // 2, w, 3)), ground]).astype(np.uint8)
    Image.fromarray(img).save(path)
    return path


def make_items(folder: Path, n: int, prefix: str = "p") -> list[dict]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "img").mkdir(exist_ok=True)
    rows = []
    for i in range(n):
        make_png(folder / "img" / f"{prefix}{i}.png", i)
        rows.append({"id": f"{prefix}{i}", "path": f"img/{prefix}{i}.png", "license": "CC0",
                     "attribution": f"Painter {i}", "title": f"Work {i}", "artist": "Anon"})
    return rows


def write_manifest(path: Path, rows: list[dict], fmt: str | None = None) -> Path:
    fmt = fmt or path.suffix.lstrip(".")
    if fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                w.writerow({k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in r.items()})
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq
        cols = {k: [(json.dumps(r[k]) if isinstance(r.get(k), dict) else r.get(k)) for r in rows]
                for k in FIELDS}
        pq.write_table(pa.table(cols), path)
    else:
        raise ValueError(fmt)
    return path


def quad_scene(rgb: np.ndarray, info, sha: str, seed: int) -> Scene:
    h = 1.0
    pos = np.array([[-h, 1.6 - h, -3], [h, 1.6 - h, -3], [h, 1.6 + h, -3], [-h, 1.6 + h, -3]], np.float32)
    uv = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)
    faces = np.array([[0, 1, 2], [0, 2, 3]], np.uint32)
    mesh = Mesh(name="layer0", positions=pos, faces=faces, uvs=uv, texture=np.ascontiguousarray(rgb[:16, :16]))
    scene = Scene(info=info, camera=camera_for_image(rgb.shape[1], rgb.shape[0]))
    scene.layers.append(Layer("layer0", Node("layer0", mesh), (2.5, 3.5)))
    scene.provenance.update({"sha256": sha, "seed": seed})
    return scene


def fake_scene_fn(local, options, info, on_stage):
    """Stands in for pipeline.convert: real loading, a one-quad scene, real export later."""
    painting = load_painting(local, info, options.load)
    on_stage("load", 0.001)
    return quad_scene(painting.rgb, painting.info, painting.sha256, options.seed)


class FakeEstimator:
    """Constant depth; records the batch sizes it was called with."""

    def __init__(self) -> None:
        self.info = ModelInfo(name="fake", revision="1", license="CC0")
        self.batches: list[int] = []

    def estimate(self, images):
        self.batches.append(len(images))
        return [DepthMap(depth=np.full(im.shape[:2], 5.0, np.float32), sky=np.zeros(im.shape[:2], bool),
                         metric=False, model=self.info) for im in images]


def slow_scene_fn(local, options, info, on_stage):
    """fake_scene_fn that takes a while, so that several items are in flight at once."""
    import time
    time.sleep(0.4)
    return fake_scene_fn(local, options, info, on_stage)


def dying_scene_fn(local, options, info, on_stage):
    """slow_scene_fn, but the worker running item 'p3' is killed (as the OOM killer would)."""
    import os
    import signal
    import time
    if info.id == "p3":
        time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGKILL)
    return slow_scene_fn(local, options, info, on_stage)

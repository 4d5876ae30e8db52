"""Train a tiny Depth Anything on the project's synthetic scenes, for tests and benchmarks.

    python scripts/train_tiny_depth.py OUT_FOLDER        # train (about 80 s of one core)
    python scripts/train_tiny_depth.py --cached          # print the cached folder, training once

A randomly initialised model cannot show that a learned depth comes out inverted or
squashed; this one has learned real structure (ground rows, sky, objects standing on the
ground) from :func:`paint2vr.samples.make_scene` scenes of many eye heights and horizons. It
is a transformers ``DepthAnythingForDepthEstimation`` (a tiny DINOv2 backbone, 98 px input),
saved with ``save_pretrained`` (safetensors) and a preprocessor config, so it loads through
``get_estimator(folder)`` exactly as real checkpoints do.

Like Depth Anything it outputs relative disparity: trained with a scale-invariant loss
against 1 / depth, sky at 0, so its unit is arbitrary (per image) and its zero is at infinity.

The cache folder (``$PAINT2VR_TEST_MODELS`` or ``~/.cache/paint2vr/test-models``) is keyed by
this file's hash: editing the script retrains. Deterministic for a given torch build: fixed
seeds, one thread, a fixed number of steps; the tests run it with torch's and numpy's kernels
held at AVX2 (``ATEN_CPU_CAPABILITY``, ``NPY_DISABLE_CPU_FEATURES``, MKL, oneDNN), since AVX-512 kernels
round differently and trained a different model on an AVX-512 machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

H, W = 98, 154
"""Training size: the model's input (short side 98, both multiples of the 14 px patch)."""
STEPS = 1200
"""Optimiser steps (about 0.08 s each here: the whole run is about 100 s; 600 steps trained too weak a model on an AVX-512 machine)."""
BATCH = 4
POOL = 320
"""Scenes drawn once (and flipped at random) for training."""
MEAN = STD = (0.5, 0.5, 0.5)

PREPROCESSOR = {"image_processor_type": "DPTImageProcessor", "size": {"height": H, "width": H},
                "keep_aspect_ratio": True, "ensure_multiple_of": 14, "image_mean": list(MEAN),
                "image_std": list(STD), "do_normalize": True, "do_rescale": True, "do_resize": True}


def _config():
    import transformers
    bb = transformers.Dinov2Config(hidden_size=48, num_hidden_layers=4, num_attention_heads=4,
                                   intermediate_size=96, image_size=H, patch_size=14,
                                   out_features=["stage1", "stage2", "stage3", "stage4"],
                                   reshape_hidden_states=False)
    return transformers.DepthAnythingConfig(backbone_config=bb, reassemble_hidden_size=48,
                                            neck_hidden_sizes=[16, 24, 32, 48], reassemble_factors=[4, 2, 1, 0.5],
                                            fusion_hidden_size=16, head_hidden_size=8,
                                            depth_estimation_type="relative")


def _scenes(n: int, rng: np.random.Generator):
    """(images (n, 3, H, W) float32 normalised, disparity targets (n, H, W) float32)."""
    from paint2vr.samples import KINDS, make_scene
    xs, ts = [], []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        eye = float(np.exp(rng.uniform(math.log(1.2), math.log(12.0))))
        hz = None if rng.random() < 0.4 else float(rng.uniform(-0.25, 0.7))
        rgb, depth, sky = make_scene(kind, W, H, seed=1000 + i, eye_height=eye, horizon=hz)
        x = (rgb.astype(np.float32) / 255.0 - np.float32(MEAN[0])) / np.float32(STD[0])
        t = np.where(sky, 0.0, 1.0 / depth).astype(np.float32)
        t /= max(float(np.median(t[~sky])), 1e-6) if (~sky).any() else 1.0
        xs.append(x.transpose(2, 0, 1))
        ts.append(t)
    return np.stack(xs), np.stack(ts)


def _loss(pred, target):
    """Scale-invariant L1 on disparity plus an L1 on its vertical and horizontal steps."""
    import torch
    s = (pred * target).sum((1, 2), keepdim=True) / (pred * pred).sum((1, 2), keepdim=True).clamp_min(1e-6)
    p = pred * s
    l1 = (p - target).abs().mean()
    gy = (p.diff(dim=1) - target.diff(dim=1)).abs().mean()
    gx = (p.diff(dim=2) - target.diff(dim=2)).abs().mean()
    return l1 + 0.5 * (gx + gy) + 1e-3 * torch.relu(1e-2 - pred.mean())  # keep the output alive


def train(out: Path, steps: int = STEPS, log=print) -> Path:
    """Train and save the model into ``out`` (created); returns ``out``."""
    import torch
    import transformers
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    xs, ts = _scenes(POOL, rng)
    log(f"scenes: {POOL} in {time.perf_counter() - t0:.1f} s")
    model = transformers.DepthAnythingForDepthEstimation(_config())
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    X, T = torch.from_numpy(xs), torch.from_numpy(ts)
    model.train()
    for step in range(steps):
        idx = torch.from_numpy(rng.integers(0, POOL, BATCH))
        x, t = X[idx], T[idx]
        if step % 2:
            x, t = x.flip(-1), t.flip(-1)
        loss = _loss(model(pixel_values=x).predicted_depth, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"step {step}: loss {loss.item():.4f} ({time.perf_counter() - t0:.0f} s)")
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    (out / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR, indent=1))
    (out / "TRAINING.json").write_text(json.dumps({"script_sha256": script_hash(), "steps": steps,
                                                   "pool": POOL, "size": [H, W]}, indent=1))
    return out


def script_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def cache_root() -> Path:
    env = os.environ.get("PAINT2VR_TEST_MODELS")
    return Path(env) if env else Path.home() / ".cache" / "paint2vr" / "test-models"


def cached(log=print) -> Path:
    """The cached model folder for this script's hash, trained into it first if missing
    (into a temporary folder renamed into place, so a concurrent run never sees half a model)."""
    folder = cache_root() / f"tiny-depth-anything-{script_hash()}"
    if (folder / "TRAINING.json").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".train-", dir=folder.parent))
    train(tmp, log=log)
    try:
        os.replace(tmp, folder)
    except OSError:  # another run finished first: keep its copy
        if not (folder / "TRAINING.json").is_file():
            raise
    return folder


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", help="folder to save the trained model into")
    ap.add_argument("--cached", action="store_true", help="print the cached model folder (training it once)")
    ap.add_argument("--steps", type=int, default=STEPS)
    a = ap.parse_args(argv)
    err = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731 - progress on stderr
    if a.cached:
        print(cached(log=err))
    elif a.out:
        train(Path(a.out), a.steps, log=err)
    else:
        ap.error("give OUT_FOLDER or --cached")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()

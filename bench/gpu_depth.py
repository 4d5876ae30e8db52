"""GPU path: the pipeline's depth stage against the same model's bare forward pass.

A real-size Depth Anything V2 Small is built from its config (random weights cost the same
as trained ones), saved with safetensors and loaded through the same code path as a real
checkpoint. We time, at the model's native input size (fp16 on CUDA):

* bare: ``model(pixel_values)`` on batches already on the device, with exactly the padded
  shapes and batch sizes the pipeline uses for these paintings (the limit);
* pipeline: ``estimator.estimate(images)`` on decoded uint8 paintings of mixed 1-2 MP
  shapes: upload, resize/pad/normalise, forward, nan-free output and fit maps, copies back,
  the fits and (lazy) DepthMap construction; once with the default options, once with the
  small prior switched (``prior_side`` 0 <-> 128), once with ``pinned_outputs``;
* pipeline, materialised: ``estimate(images)`` and then every map's full-resolution
  ``depth`` (and sky) made in a thread pool of the estimator's size, i.e. the cost that lazy
  maps hand to their consumer, included;
* phases: one batch run stage by stage with a device synchronisation around each stage
  (``device_fit``: output packing, fit maps, sky and fit on the device; ``copy_back``: the
  batch's one copy to the host; ``build_lazy_maps_host``: slicing it into lazy maps);
* syncs: device synchronisations inside one ``estimate`` call (CUDA's sync debug mode;
  the fast path should have none);
* main thread: the calling thread's CPU time over the wall time of one ``estimate`` (near 1:
  the device waits for kernel launches or the GIL), and the pipeline with 1, 2 and 4 host
  threads (fewer threads, less GIL contention with the launching thread).

``python -m bench.gpu_depth --out gpu.json`` (CUDA). ``--device cpu --tiny --images 8`` runs
the whole script on a tiny model in seconds (the test does that). Without CUDA and without
``--device cpu`` it prints a skip message and exits 0.

Only torch, transformers, numpy, opencv and Pillow are needed: ``paint2vr.depth`` is imported
without running ``paint2vr/__init__`` (which pulls in the exporters).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import types
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _import_depth():
    """paint2vr.depth without paint2vr/__init__ (keeps exporters and their packages out)."""
    if "paint2vr" not in sys.modules:
        pkg = types.ModuleType("paint2vr")
        pkg.__path__ = [str(REPO / "paint2vr")]
        sys.modules["paint2vr"] = pkg
    import paint2vr.depth as depth
    import paint2vr.depth.transformers_backend as tb
    return depth, tb


def build_model(folder: Path, tiny: bool = False) -> int:
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    if tiny:
        backbone = Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                                image_size=56, patch_size=14, out_features=["stage1", "stage2"],
                                reshape_hidden_states=False)
        cfg = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32, neck_hidden_sizes=[8, 16],
                                  reassemble_factors=[4, 2], fusion_hidden_size=16, head_hidden_size=8,
                                  depth_estimation_type="relative")
        size = 56
    else:
        backbone = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, patch_size=14,
                                image_size=518, out_features=["stage3", "stage6", "stage9", "stage12"],
                                reshape_hidden_states=False)
        cfg = DepthAnythingConfig(backbone_config=backbone, neck_hidden_sizes=[48, 96, 192, 384],
                                  fusion_hidden_size=64, head_hidden_size=32, depth_estimation_type="relative")
        size = 518
    model = DepthAnythingForDepthEstimation(cfg)
    model.save_pretrained(folder, safe_serialization=True)
    # The fields our preprocessing reads (the same as the hub's DPTImageProcessor config).
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "DPTImageProcessor", "size": {"height": size, "width": size},
        "keep_aspect_ratio": True, "ensure_multiple_of": 14, "do_rescale": True, "do_normalize": True,
        "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}))
    return sum(p.numel() for p in model.parameters())


def make_images(n: int, tiny: bool):
    """n decoded paintings (uint8 HxWx3) of mixed shapes: a bright graded sky over textured
    land; 2 distinct images per shape, reused (content does not change the cost)."""
    import numpy as np
    shapes = ([(120, 160), (160, 120), (100, 150), (140, 140)] if tiny
              else [(1080, 1440), (1200, 900), (1024, 1536), (1400, 1400)])
    rng = np.random.default_rng(0)
    base = []
    for k in range(2 * len(shapes)):
        h, w = shapes[k % len(shapes)]
        img = np.empty((h, w, 3), np.uint8)
        hz = int(h * (0.3 + 0.1 * (k % 3)))
        img[:hz] = np.linspace([120, 160, 230], [200, 210, 235], hz).astype(np.uint8)[:, None, :]
        land = rng.integers(40, 140, (h - hz, w // 8 + 1, 3), dtype=np.uint8)
        img[hz:] = np.repeat(land, 8, axis=1)[:, :w]
        base.append(img)
    return [base[i % len(base)] for i in range(n)]


def _sync(cuda: bool) -> None:
    if cuda:
        import torch
        torch.cuda.synchronize()


def time_bare(model, batches, plans, device, dtype, cuda: bool, repeats: int = 2) -> float:
    """Images/s of model(pixel_values) over the pipeline's own batches (shapes and sizes)."""
    import torch
    inputs = {}
    for idx in batches:
        key = (len(idx), plans[idx[0]].th, plans[idx[0]].tw)
        if key not in inputs:
            inputs[key] = torch.randn(key[0], 3, key[1], key[2], device=device).to(dtype)
    n = sum(len(b) for b in batches)
    best = float("inf")
    with torch.inference_mode():
        for x in inputs.values():  # warm up every shape
            model(pixel_values=x)
        _sync(cuda)
        for _ in range(repeats):
            t0 = time.perf_counter()
            for idx in batches:
                model(pixel_values=inputs[(len(idx), plans[idx[0]].th, plans[idx[0]].tw)])
            _sync(cuda)
            best = min(best, time.perf_counter() - t0)
    return n / best


def time_pipeline(est, images, cuda: bool, repeats: int = 2, pool=None) -> tuple[float, list]:
    """Images/s of est.estimate(images); with ``pool``, each map's full-resolution depth is
    also made in that pool, inside the timing."""
    best, maps = float("inf"), []
    for _ in range(repeats):
        maps = []  # drop the last run's maps first (their memory is reused, as when streaming)
        _sync(cuda)
        t0 = time.perf_counter()
        maps = est.estimate(images)
        if pool is not None:
            list(pool.map(lambda m: m.depth, maps))
        _sync(cuda)
        best = min(best, time.perf_counter() - t0)
    return len(images) / best, maps


def main_thread_load(est, images, cuda: bool) -> dict:
    """Wall time of one ``estimate`` call against the CPU time of the thread that calls it
    (kernel launches, Python, waiting for the GIL does not count). A busy fraction near 1
    means the device waits for the main thread (launch- or GIL-bound), not the other way."""
    _sync(cuda)
    c0, t0 = time.thread_time(), time.perf_counter()
    est.estimate(images)
    _sync(cuda)
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    return {"wall_s": round(wall, 4), "main_thread_cpu_s": round(cpu, 4), "busy_fraction": round(cpu / wall, 3)}


def phases(est, tb, images, batch: list[int], plans, cuda: bool) -> dict:
    """One batch, stage by stage, synchronised: milliseconds per stage (and per image)."""
    import torch
    import paint2vr.depth.runner as runner
    ps = [plans[i] for i in batch]
    streams = runner.Streams(est.device)
    run, output = est.runner, est.output()
    out: dict = {}

    def timed(name, fn):
        _sync(cuda)
        t0 = time.perf_counter()
        r = fn()
        _sync(cuda)
        out[name] = (time.perf_counter() - t0) * 1e3
        return r

    with torch.inference_mode():
        preps = timed("host_prep", lambda: [run.host_prep(images[i], output) for i in batch])
        opts = est.options
        est.options = replace(opts, prior_side=128 if opts.prior_side == 0 else 0)
        alt = est.output()
        timed(f"host_prep_prior_side_{est.options.prior_side}", lambda: [run.host_prep(images[i], alt) for i in batch])
        est.options = opts
        x = timed("upload_preprocess", lambda: run.upload_preprocess([t for t, _ in preps], ps, streams))

        def fwd():
            with streams.on_compute():
                return run.model_forward(x)
        pred = timed("forward", fwd)
        hints = [h for _, h in preps]
        packed = timed("device_fit", lambda: run.device_post(pred, ps, hints, streams, output))
        host, ev = timed("copy_back", lambda: run.copy_back(packed, streams))
        out["fit_maps_and_copy_back"] = out["device_fit"] + out["copy_back"]
        L = runner.Launched(batch, ps, hints, packed, host, ev)
        maps = timed("build_lazy_maps_host", lambda: [m for _, m in run.finish(L, output, None)])
        scal = host.numpy()[:packed.n_scal].view("float64").reshape(len(batch), -1)
        unconverged = int((scal[:, 3] == 0).sum())  # fitted on the host instead (slow path)
        timed("materialise_depth_host", lambda: [m.depth for m in maps])
        timed("materialise_edges_host", lambda: [m.edges for m in maps])
    n = len(batch)
    return {"batch_images": n, "unconverged": unconverged, "ms": {k: round(v, 3) for k, v in out.items()},
            "ms_per_image": {k: round(v / n, 3) for k, v in out.items()}}


def count_syncs(est, images, cuda: bool) -> int | None:
    """Device synchronisations inside one ``est.estimate(images)`` (CUDA only; None elsewhere):
    each stalls the host until the device has drained its queue, breaking the pipelining."""
    if not cuda:
        return None
    import warnings
    import torch
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            est.estimate(images)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message).lower() for w in got)


def _land_rel(a, b) -> float:
    import numpy as np
    land = ~a.sky & ~b.sky
    return float(np.median(np.abs(a.depth[land] - b.depth[land]) / b.depth[land])) if land.any() else 0.0


def check(device: str, tb, depth) -> dict:
    """Correctness of the device path on ``device`` (tiny model, small paintings): fast vs
    reference in fp32, batched vs one at a time, fp16 vs fp32. Returns the measured gaps."""
    import numpy as np
    res: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tiny"
        build_model(folder, tiny=True)
        ims = [im[: 97 + 13 * k, : 151 - 9 * k] for k, im in enumerate(make_images(6, True))]
        for fp16 in (False, True):
            est = tb.TransformersEstimator(folder, options=tb.TransformersOptions(device=device, batch_size=4,
                                                                                  fp16=fp16))
            fast = est.estimate(ims)
            one = [est.estimate([im])[0] for im in ims]
            ref = est.estimate_reference(ims)
            key = "fp16" if fp16 else "fp32"
            res[key] = {
                "lazy_ok": all(a.is_lazy for a in fast) and not any(b.is_lazy for b in ref),
                "shapes_ok": all(a.depth.shape == im.shape[:2] and a.sky.shape == im.shape[:2] for a, im in zip(fast, ims)),
                "finite_ok": all(bool(np.isfinite(a.depth).all()) for a in fast),
                "batched_vs_single_max_rel": max(float(np.max(np.abs(a.depth - b.depth) / b.depth)) for a, b in zip(fast, one)),
                "batched_vs_single_sky_diff": max(float((a.sky != b.sky).mean()) for a, b in zip(fast, one)),
                "fast_vs_reference_land_median_rel": max(_land_rel(a, b) for a, b in zip(fast, ref)),
                "fast_vs_reference_sky_diff": max(float((a.sky != b.sky).mean()) for a, b in zip(fast, ref))}
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--images", type=int, default=256)
    ap.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    ap.add_argument("--out", default="")
    ap.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--check", action="store_true", help="also check the device path against the reference")
    args = ap.parse_args(argv)
    import numpy as np
    import torch

    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print("gpu_depth: skipped: no CUDA GPU on this machine")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    depth, tb = _import_depth()
    t_start = time.perf_counter()
    result: dict = {"device": torch.cuda.get_device_name(torch.device(args.device)) if cuda
                    else f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
                    "batch_size": args.batch_size, "images": args.images, "torch": torch.__version__,
                    "model": "tiny random Depth Anything" if args.tiny else "Depth Anything V2 Small (random)"}
    if args.check:
        result["check"] = check(args.device, tb, depth)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "da2-random"
        result["parameters"] = build_model(folder, args.tiny)
        est = depth.get_estimator(str(folder), device=args.device, batch_size=args.batch_size)
        images = make_images(args.images, args.tiny)
        plans = [est._plan(*im.shape[:2]) for im in images]
        batches = est._batches(plans)
        result["dtype"] = str(est.dtype).replace("torch.", "")
        result["input_shapes"] = sorted({f"{p.th}x{p.tw}" for p in plans})
        result["host_threads"] = est.runner.threads()
        result["prior_side"] = est.options.prior_side

        bare = time_bare(est.model, batches, plans, est.device, est.dtype, cuda)
        est.estimate(images[: 2 * args.batch_size])  # warm up the pipeline (kernels, pinned cache)
        pipe, maps = time_pipeline(est, images, cuda)
        lazy = all(m.is_lazy and m.shape == im.shape[:2] for m, im in zip(maps, images))
        ok = all(m.depth.shape == im.shape[:2] and np.isfinite(m.depth).all() for m, im in zip(maps, images))
        del maps
        with ThreadPoolExecutor(est.runner.threads()) as pool:
            pipe_mat, maps = time_pipeline(est, images, cuda, pool=pool)
        del maps
        default_opts = est.options
        est.options = replace(default_opts, prior_side=128 if default_opts.prior_side == 0 else 0)
        pipe_alt, maps = time_pipeline(est, images, cuda)
        del maps
        alt_side = est.options.prior_side
        est.options = replace(default_opts, pinned_outputs=True)
        pipe_pin, maps = time_pipeline(est, images, cuda)
        del maps
        # Fewer host threads: less contention for the GIL with the thread that launches kernels.
        by_threads = {}
        for n in sorted({1, 2, 4} - {est.runner.threads()}):
            est.options = replace(default_opts, host_threads=n)
            rate, maps = time_pipeline(est, images, cuda)
            del maps
            by_threads[str(n)] = {"images_per_s": round(rate, 2), "ratio": round(rate / bare, 4)}
        est.options = default_opts
        load = main_thread_load(est, images, cuda)
        ph = phases(est, tb, images, batches[0], plans, cuda)
        syncs = count_syncs(est, images[: 2 * args.batch_size], cuda)
        result.update({
            "bare_images_per_s": round(bare, 2), "pipeline_images_per_s": round(pipe, 2),
            "ratio": round(pipe / bare, 4),
            "pipeline_materialised_images_per_s": round(pipe_mat, 2),
            "ratio_materialised": round(pipe_mat / bare, 4),
            f"pipeline_prior_side_{alt_side}_images_per_s": round(pipe_alt, 2),
            f"ratio_prior_side_{alt_side}": round(pipe_alt / bare, 4),
            "pipeline_pinned_outputs_images_per_s": round(pipe_pin, 2),
            "ratio_pinned_outputs": round(pipe_pin / bare, 4),
            "outputs_ok": ok, "maps_lazy": lazy, "phases_ms": ph["ms"], "phases_ms_per_image": ph["ms_per_image"],
            "phase_batch_images": ph["batch_images"], "syncs_in_estimate": syncs,
            "pipeline_by_host_threads": by_threads, "main_thread": load,
            "phase_batch_skies_fitted_on_host": ph["unconverged"],
            "phase_note": "one batch, each stage bracketed by a device synchronisation (no overlap); "
                          "host_* stages are CPU work that the pipeline runs in a thread pool",
            "total_s": round(time.perf_counter() - t_start, 1)})
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""GPU path: the pipeline's depth stage against the same model's bare forward pass.

A real-size Depth Anything V2 Small is built from its config (random weights cost the same
as trained ones), saved with safetensors and loaded through the same code path as a real
checkpoint. We time, in fp16 at the model's native input size:

* bare: ``model(pixel_values)`` in a loop on a batch already on the GPU (the limit);
* pipeline: ``estimator.estimate(images)`` on decoded paintings of mixed sizes, which
  includes pre-processing (resize keeping aspect, normalise), the forward pass and
  post-processing (upsampling to each painting's full resolution, relative -> metric).

``python -m bench.gpu_depth --out gpu.json``. Skips with a message when no CUDA GPU exists.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def build_model(folder: Path):
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    backbone = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, patch_size=14,
                            image_size=518, out_features=["stage3", "stage6", "stage9", "stage12"],
                            reshape_hidden_states=False)
    cfg = DepthAnythingConfig(backbone_config=backbone, neck_hidden_sizes=[48, 96, 192, 384],
                              fusion_hidden_size=64, head_hidden_size=32, depth_estimation_type="relative")
    model = DepthAnythingForDepthEstimation(cfg)
    model.save_pretrained(folder, safe_serialization=True)
    from transformers import DPTImageProcessor
    DPTImageProcessor(size={"height": 518, "width": 518}, keep_aspect_ratio=True, ensure_multiple_of=14,
                      do_pad=False, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]
                      ).save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--images", type=int, default=256)
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    import numpy as np
    import torch

    if not torch.cuda.is_available():
        print("gpu_depth: skipped: no CUDA GPU on this machine")
        return 0
    from paint2vr.depth import get_estimator

    result: dict = {"device": torch.cuda.get_device_name(0), "batch_size": args.batch_size,
                    "torch": torch.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "da2-small-random"
        result["parameters"] = build_model(folder)
        est = get_estimator(str(folder), device="cuda", batch_size=args.batch_size)
        model = est.model  # the loaded module, fp16 on the GPU
        rng = np.random.default_rng(0)
        # Paintings of typical museum-scan shapes, decoded (uint8 HxWx3), around 1-3 MP.
        shapes = [(1080, 1440), (1200, 900), (1024, 1536), (1400, 1400)]
        images = [rng.integers(0, 255, shapes[i % len(shapes)] + (3,), dtype=np.uint8)
                  for i in range(args.images)]
        # Bare forward at the native size (518 on the short side, 14-multiple long side).
        x = torch.randn(args.batch_size, 3, 518, 686, device="cuda", dtype=torch.float16)
        with torch.inference_mode():
            for _ in range(3):
                model(pixel_values=x)
            torch.cuda.synchronize()
            n = 0
            t0 = time.perf_counter()
            while n < args.images:
                model(pixel_values=x)
                n += args.batch_size
            torch.cuda.synchronize()
            bare = n / (time.perf_counter() - t0)
        est.estimate(images[: args.batch_size * 2])  # warm up the pipeline path
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        maps = est.estimate(images)
        torch.cuda.synchronize()
        pipe = len(maps) / (time.perf_counter() - t0)
        assert maps[0].depth.shape == images[0].shape[:2]
        result.update({"bare_images_per_s": bare, "pipeline_images_per_s": pipe,
                       "ratio": pipe / bare, "input": "518 x 686 (fp16)", "images": args.images})
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

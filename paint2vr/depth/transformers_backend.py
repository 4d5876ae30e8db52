"""Learned depth through Hugging Face ``transformers`` (AutoModelForDepthEstimation).

Works with any checkpoint that class loads: Depth Anything (V1/V2, relative and metric),
DPT / MiDaS, ZoeDepth, Depth Pro, GLPN. The only module of paint2vr that imports torch.

Parts: :mod:`.hub` resolves and safety-checks the checkpoint and loads it;
:mod:`.model_options` holds the options, checked before anything loads; this module runs the
model on its device (plans, streams, batches) and builds the DepthMaps from the fit of
:mod:`.fit` / :mod:`.device_fit`.

Safety: weights are loaded with ``use_safetensors=True`` and ``trust_remote_code=False``; a
folder holding only pickled weights (``pytorch_model.bin``, ``.pt``, ``.ckpt``, ``.pth``) is
refused with :class:`UnsafeModelError` because unpickling runs arbitrary code.

Offline: with ``HF_HUB_OFFLINE`` set, or no route to the hub, a model that is neither a local
folder nor in the cache fails at once with :class:`ModelNotFoundError` naming
``paint2vr models pull NAME``.

Resizing (never squashing): each painting is scaled so its *short* side equals the model's
input size, the long side is capped at ``max_aspect`` times that (very elongated paintings
are then seen at a lower resolution rather than tiled), and the result is padded at the
bottom/right by edge replication up to a multiple of the model's patch size
(``ensure_multiple_of`` / ``size_divisor`` / the backbone's patch size). The padding is
cropped from the output, which is upsampled bilinearly to the painting's full resolution.
Depth Pro needs a fixed square input: the painting is letterboxed into it instead.

Relative -> metric: relative models output disparity-like values d (larger = nearer). We
assume ``d = a / z + b``; a, b come from the model's own ground and the camera's geometry
(:mod:`.scale`, options ``scale``), or when no ground is found from the range mapping: the
98th / 2nd percentiles of d over land onto the near / far ends of the land depth range (the
built-in prior run on a small copy, ``prior_side`` px, or the prior's default near/far when
``prior_side`` is 0). Depth is ``z = a / (d - b)``, clipped. The result is marked
``metric=False``; ``extras['scale']`` says which method fixed it. Metric models' metres are
used as they are (``metric=True``).

Sky: models have no sky output. Sky = low-disparity pixels connected to the top edge, joined
with the prior's sky where the model also sees the region as far. The fit (sky and the
percentiles) is made on a small "fit map" (block means of the cropped model output, about
``fit_side`` px long side); the sky mask is then upsampled bilinearly and thresholded at 0.5.

Fast path (:meth:`TransformersEstimator.estimate`): uint8 paintings are uploaded (pinned,
non-blocking on CUDA), resized, padded and normalised on the device, batched by padded
shape and run through the model (fp16 on CUDA). The device then only makes the output
nan-free and block-averages the small fit maps; the batch's output (model resolution) and
fit maps come back in one copy each. On the host, per painting: the fit, and a *lazy*
:class:`DepthMap` holding the model-resolution crop and the fit; its full-resolution depth
and sky (and its edges and confidence) are computed on first read by exactly the
reference's numpy/cv2 code (:func:`apply_fit`). Building full-resolution maps for every
painting (6 MB of fresh host memory per 1.5 MP painting) used to cap an H100 at 30 % of the
model's rate; now that cost falls on the consumer that reads the map, in its own thread or
process (lazy maps pickle as the crop and the fit). Batch k+1 is enqueued before batch k's
results are collected, on separate copy/compute streams, and host work runs in a thread
pool. :meth:`TransformersEstimator.estimate_reference` is the slow numpy/cv2 version of the
same steps, one painting at a time, and returns eager maps.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from ..errors import InputError
from .base import DepthMap, ModelInfo, edge_strength
from .hub import PICKLE_SUFFIXES, check_folder, load_checkpoint, read_model_json  # noqa: F401  (re-exported)
from .model_options import DEFAULT_TRANSFORMERS_OPTIONS, TransformersOptions, check_model_options
from .prior import PriorEstimator, _check_rgb
from .device_fit import _SWEEPS, _upload, fit_depth_device, fit_depth_torch, top_connected_torch
from .fit import (_LAZY_NAMES, NSTATS, DepthFit, LazyMaps, RangeHint, _fit_factors, _prior_sky, _provably_valid,
                  apply_fit, block_mean, derive_sky, fit_depth, fit_from_stats, scale_extras)
from .scale import check_scale_options, fit_frame

log = logging.getLogger(__name__)

_LOOKAHEAD = 2
"""Batches whose host preparation (pinning, small prior) is queued ahead of the device."""
_IN_FLIGHT = 1
"""Batches enqueued on the device beyond the one whose results are being collected."""




def pick_device(device: str) -> str:
    import torch
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if device.split(":")[0] not in ("cpu", "cuda", "mps"):
        raise InputError(f"unknown device {device!r}", hint="use auto, cpu, cuda, cuda:N or mps")
    return device


class TransformersEstimator:
    """A transformers depth model behind the :class:`DepthEstimator` interface."""

    def __init__(self, source: str | os.PathLike[str], *, revision: str = "main", info: ModelInfo | None = None,
                 options: TransformersOptions = DEFAULT_TRANSFORMERS_OPTIONS, pull_name: str | None = None) -> None:
        check_model_options(options)  # before anything is loaded
        self.options = options
        ck = load_checkpoint(str(source), revision, pull_name)  # resolution and safety: .hub
        self.config, self.model, self.proc = ck.config, ck.model, ck.proc
        src, local = ck.source, ck.local
        import torch
        self.device = pick_device(options.device)
        self.dtype = torch.float16 if (self.device.startswith("cuda") and options.fp16) else torch.float32
        self.model.to(self.device, dtype=self.dtype).eval()
        mt = getattr(self.config, "model_type", "")
        self.fixed_square = mt == "depth_pro"
        if options.kind is not None:
            self.kind = options.kind
        elif getattr(self.config, "depth_estimation_type", None) == "metric" or mt in ("zoedepth", "depth_pro", "glpn"):
            self.kind = "metric"
        else:
            self.kind = "relative"
        self.multiple = int(self.proc.get("ensure_multiple_of") or self.proc.get("size_divisor")
                            or self.proc.get("size_divisibility") or self._patch_size() or 14)
        self.input_size = int(options.input_size or self._proc_size() or 518)
        self.info = info or ModelInfo(name=src, revision=revision if not local else "local",
                                      license="unknown", commercial=False)
        self._prior = PriorEstimator()
        self._cuda = self.device.startswith("cuda")
        scale, mean, std = self._norm()
        self._norm_t = (scale, torch.from_numpy(mean).view(3, 1, 1).to(self.device),
                        torch.from_numpy(std).view(3, 1, 1).to(self.device))
        check_scale_options(options.scale)

    def _patch_size(self) -> int | None:
        for cfg in (self.config, getattr(self.config, "backbone_config", None)):
            p = getattr(cfg, "patch_size", None)
            if isinstance(p, int):
                return p
        return None

    def _proc_size(self) -> int | None:
        s = self.proc.get("size")
        if isinstance(s, dict):
            vals = [v for k, v in s.items() if k in ("height", "width", "shortest_edge") and v]
            return int(min(vals)) if vals else None
        return int(s) if isinstance(s, int) else None

    # -- planning and preprocessing ----------------------------------------------------
    def _plan(self, h: int, w: int) -> _Plan:
        """Resized (nh, nw) and padded (th, tw) model input size of an (h, w) painting."""
        S = self.input_size
        if self.fixed_square:
            s = S / max(h, w)
        else:
            s = S / min(h, w)
            if max(h, w) * s > self.options.max_aspect * S:
                s = self.options.max_aspect * S / max(h, w)
        nh, nw = max(1, round(h * s)), max(1, round(w * s))
        m = self.multiple
        th, tw = (S, S) if self.fixed_square else (-(-nh // m) * m, -(-nw // m) * m)
        return _Plan(h, w, nh, nw, th, tw, s < 1)

    def _norm(self) -> tuple[float, np.ndarray, np.ndarray]:
        scale = 1.0 / 255.0 if self.proc.get("do_rescale", True) is not False else 1.0
        if self.proc.get("do_normalize", True) is not False:
            mean = np.asarray(self.proc.get("image_mean") or (0.485, 0.456, 0.406), np.float32)
            std = np.asarray(self.proc.get("image_std") or (0.229, 0.224, 0.225), np.float32)
        else:
            mean, std = np.zeros(3, np.float32), np.ones(3, np.float32)
        return scale, mean, std

    def _prepare(self, rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """Reference (cv2) preprocessing -> (padded float32 (3, H', W') input, (valid h, valid w))."""
        p = self._plan(*rgb.shape[:2])
        img = cv2.resize(rgb, (p.nw, p.nh), interpolation=cv2.INTER_AREA if p.down else cv2.INTER_CUBIC)
        img = cv2.copyMakeBorder(img, 0, p.th - p.nh, 0, p.tw - p.nw, cv2.BORDER_REPLICATE)
        scale, mean, std = self._norm()
        x = (img.astype(np.float32) * np.float32(scale) - mean) / std
        return np.ascontiguousarray(x.transpose(2, 0, 1)), (p.nh, p.nw)

    def _prepare_torch(self, img, p: _Plan):
        """Device preprocessing of one (h, w, 3) uint8 tensor -> float32 (3, th, tw); the same
        steps as :meth:`_prepare` (antialiased bilinear stands in for cv2's area filter)."""
        import torch.nn.functional as F
        x = img.permute(2, 0, 1).unsqueeze(0).float()
        if (p.nh, p.nw) != (p.h, p.w):
            if p.down:
                x = F.interpolate(x, size=(p.nh, p.nw), mode="bilinear", align_corners=False, antialias=True)
            else:
                x = F.interpolate(x, size=(p.nh, p.nw), mode="bicubic", align_corners=False)
            x = x.round_().clamp_(0, 255)  # cv2 stores uint8: same rounding
        if (p.th, p.tw) != (p.nh, p.nw):
            x = F.pad(x, (0, p.tw - p.nw, 0, p.th - p.nh), mode="replicate")
        scale, mean, std = self._norm_t
        return ((x[0] * scale) - mean) / std

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        import torch
        with torch.inference_mode():
            t = torch.from_numpy(batch).to(self.device, dtype=self.dtype)
            return self._model_forward(t).cpu().numpy()

    def _model_forward(self, x):
        """(B, 3, H, W) model-dtype tensor -> (B, H', W') float32 prediction (on the device)."""
        out = self.model(pixel_values=x).predicted_depth
        if out.ndim == 4:
            out = out[:, 0]
        return out.float()

    def raw(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Model output per image at full resolution (disparity or metres), float32 (reference path)."""
        outs = []
        for img in images:
            _check_rgb(img)
            x, (nh, nw) = self._prepare(img)
            p = self._forward(x[None])[0]
            if p.shape != x.shape[1:]:
                p = cv2.resize(p, (x.shape[2], x.shape[1]), interpolation=cv2.INTER_LINEAR)
            h, w = img.shape[:2]
            outs.append(cv2.resize(np.ascontiguousarray(p[:nh, :nw]), (w, h), interpolation=cv2.INTER_LINEAR))
        return outs

    # -- the range hint (small prior run) -----------------------------------------------
    def _hint(self, rgb: np.ndarray) -> RangeHint:
        """Near/far of the ground plane and a sky hint, from the prior run on a small copy
        (``prior_side`` px long side), or the prior's default range when ``prior_side`` is 0."""
        po = self._prior.options
        side = self.options.prior_side
        if side <= 0:
            return RangeHint(po.near, po.far, None)
        h, w = rgb.shape[:2]
        s = min(1.0, side / max(h, w))
        if s == 1.0:
            small = rgb
        else:
            k = max(1, int(1 / s) // 2)  # stride first: area-averaging 1.5 MP costs ~5x more
            small = cv2.resize(rgb[::k, ::k], (max(1, round(w * s)), max(1, round(h * s))),
                               interpolation=cv2.INTER_AREA)
        prior = self._prior.estimate_one(np.ascontiguousarray(small))
        pl = prior.depth[~prior.sky] if (~prior.sky).any() else prior.depth.ravel()
        near, far = float(np.percentile(pl, 2)), float(np.percentile(pl, 98))
        return RangeHint(near, max(far, near * 1.5), prior.sky)

    # -- the reference path (numpy/cv2, one image at a time) --------------------------------
    def estimate_reference(self, images: Sequence[np.ndarray]) -> list[DepthMap]:
        """Slow, obvious version of :meth:`estimate`: cv2 preprocessing, one forward pass per
        image, numpy/cv2 post-processing. The tests check the fast path against it."""
        out = []
        for img in images:
            _check_rgb(img)
            p = self._plan(*img.shape[:2])
            x, _ = self._prepare(img)
            pred = self._forward(x[None])[0]
            if pred.shape != (p.th, p.tw):
                pred = cv2.resize(pred, (p.tw, p.th), interpolation=cv2.INTER_LINEAR)
            crop = np.nan_to_num(pred[:p.nh, :p.nw], nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
            kh, kw = _fit_factors(p.nh, p.nw, self.options.fit_side)
            small = block_mean(crop, kh, kw)
            frame = fit_frame(p.nh, p.nw, kh, small.shape[0], self.options.scale.fov_deg)
            fit = fit_depth(small, self.kind, self._hint(img), self._prior.options.sky_depth, self.options.scale, frame)
            depth, sky, edges = apply_fit(crop, (p.h, p.w), fit)
            out.append(self._depth_map(depth, sky, edges, 1.0 - 0.5 * edges, fit))
        return out

    def _depth_map(self, depth, sky, edges, conf, fit: DepthFit) -> DepthMap:
        return DepthMap(depth=depth, sky=sky, metric=self.kind == "metric", model=self.info,
                        confidence=conf, edges=edges, extras=self._extras(fit))

    def _extras(self, fit: DepthFit) -> dict:
        return {"kind": self.kind, "input_size": self.input_size} | scale_extras(fit, self.info.name)

    def _lazy_map(self, crop: np.ndarray, shape: tuple[int, int], fit: DepthFit) -> DepthMap:
        """A lazy DepthMap whose arrays :class:`LazyMaps` makes from the crop and the fit."""
        return DepthMap.lazy(shape, LazyMaps(crop, shape, fit), _LAZY_NAMES, metric=self.kind == "metric",
                             model=self.info, extras=self._extras(fit), check_values=not _provably_valid(fit))

    # -- the fast path: batched, pipelined, on the device ---------------------------------------
    def estimate(self, images: Sequence[np.ndarray]) -> list[DepthMap]:
        """Depth of each painting, batched by padded input shape and pipelined: host work
        (pinning, the small prior, building DepthMaps) runs in a thread pool, and batch k+1 is
        enqueued on the device before batch k's results are waited for."""
        import torch
        for img in images:
            _check_rgb(img)
        if not images:
            return []
        plans = [self._plan(*img.shape[:2]) for img in images]
        batches = self._batches(plans)
        out: list[DepthMap | None] = [None] * len(images)
        streams = _Streams(self.device)
        with ThreadPoolExecutor(self._threads()) as pool, torch.inference_mode():
            prep: dict[int, Future] = {}

            def submit(b: int) -> None:
                if b < len(batches):
                    for i in batches[b]:
                        prep[i] = pool.submit(self._host_prep, images[i])

            for b in range(_LOOKAHEAD):
                submit(b)
            pending: deque = deque()
            built: list[Future] = []
            for b, idx in enumerate(batches):
                submit(b + _LOOKAHEAD)
                pending.append(self._launch(idx, plans, [prep.pop(i).result() for i in idx], streams))
                if len(pending) > _IN_FLIGHT:
                    built += self._finish(pending.popleft(), pool)
            while pending:
                built += self._finish(pending.popleft(), pool)
            for f in built:
                i, dm = f.result()
                out[i] = dm
        return out  # type: ignore[return-value]

    def _threads(self) -> int:
        return self.options.host_threads or max(1, min(8, os.cpu_count() or 1))

    def _batches(self, plans: list[_Plan]) -> list[list[int]]:
        groups: dict[tuple[int, int], list[int]] = {}
        for i, p in enumerate(plans):
            groups.setdefault((p.th, p.tw), []).append(i)
        bs = self.options.batch_size
        return [idx[k:k + bs] for idx in groups.values() for k in range(0, len(idx), bs)]

    def _host_prep(self, rgb: np.ndarray):
        """(host uint8 tensor, pinned on CUDA; RangeHint) for one painting (runs in the pool)."""
        import torch
        if self._cuda:
            t = torch.empty(rgb.shape, dtype=torch.uint8, pin_memory=True)
            np.copyto(t.numpy(), rgb)
        else:
            t = torch.from_numpy(rgb if rgb.flags.writeable and rgb.flags.c_contiguous else rgb.copy())
        return t, self._hint(rgb)

    def _upload_preprocess(self, hosts: list, plans: list[_Plan], streams: _Streams):
        """Upload (copy stream, non-blocking) and preprocess into one model-dtype batch."""
        import torch
        if self._cuda:
            with torch.cuda.stream(streams.h2d):
                dev = [t.to(self.device, non_blocking=True) for t in hosts]
                ev = torch.cuda.Event()
                ev.record(streams.h2d)
            streams.compute.wait_event(ev)
            for g in dev:
                g.record_stream(streams.compute)  # made on h2d, used on compute
        else:
            dev = hosts
        with streams.on_compute():
            return torch.stack([self._prepare_torch(g, p) for g, p in zip(dev, plans)]).to(self.dtype)

    def _device_post(self, pred, plans: list[_Plan], hints: list[RangeHint], streams: _Streams) -> _Packed:
        """After the forward, on the compute stream: the nan-free output, the small fit maps
        (block means of each crop) and the fit of each painting (:func:`fit_depth_torch`, one
        call per crop shape), all packed into one device byte buffer: [fit statistics (B, NSTATS)
        float64 | output (B, th, tw) float32 | fit maps float32 | small sky masks uint8]. The
        fit maps only serve the host's fallback for a sky that had not converged."""
        import torch
        import torch.nn.functional as F
        B = len(plans)
        th, tw = plans[0].th, plans[0].tw  # a batch shares its padded shape
        groups: dict[tuple[int, int], list[int]] = {}
        for k, p in enumerate(plans):
            groups.setdefault((p.nh, p.nw), []).append(k)
        shapes = {key: tuple(s // f for s, f in zip(key, _fit_factors(*key, self.options.fit_side)))
                  for key in groups}
        n_scal, n_out = B * _NSCAL * 8, B * th * tw * 4
        n_px = sum(len(ks) * shapes[key][0] * shapes[key][1] for key, ks in groups.items())
        rows: list = [None] * B
        sky_at: list = [None] * B
        with streams.on_compute():
            buf = torch.empty(n_scal + n_out + 5 * n_px, dtype=torch.uint8, device=pred.device)
            scal = buf[:n_scal].view(torch.float64).view(B, _NSCAL)
            out = buf[n_scal:n_scal + n_out].view(torch.float32).view(B, th, tw)
            if tuple(pred.shape[1:]) != (th, tw):
                pred = F.interpolate(pred[:, None], size=(th, tw), mode="bilinear", align_corners=False)[:, 0]
            torch.nan_to_num(pred, nan=0.0, posinf=0.0, neginf=0.0, out=out)
            row, off = 0, n_scal + n_out + 4 * n_px  # sky masks after the fit maps
            smalls = buf[n_scal + n_out:n_scal + n_out + 4 * n_px].view(torch.float32)
            for (nh, nw), ks in groups.items():  # one pooling and one fit per crop shape
                kh, kw = _fit_factors(nh, nw, self.options.fit_side)
                sel = out if len(ks) == B else torch.stack([out[k] for k in ks])  # no index upload
                small = F.avg_pool2d(sel[:, None, :nh, :nw], (kh, kw), stride=(kh, kw))[:, 0]
                sh, sw = small.shape[1:]
                psky = self._fit_sky([hints[k] for k in ks], (sh, sw), small.device)
                y = fit_frame(nh, nw, kh, sh, self.options.scale.fov_deg).rows
                sky, sc = fit_depth_torch(small, self.kind, psky, scale=self.options.scale, sweeps=_SWEEPS,
                                          frame_rows=_upload(torch.from_numpy(y), small.device))
                scal[row:row + len(ks)] = sc
                n = len(ks) * sh * sw
                buf[off:off + n] = sky.reshape(-1).view(torch.uint8)
                px = off - (n_scal + n_out + 4 * n_px)  # this group's first pixel
                smalls[px:px + n] = small.reshape(-1)
                for j, k in enumerate(ks):
                    rows[k], sky_at[k] = row + j, (off + j * sh * sw, (sh, sw))
                row, off = row + len(ks), off + n
        return _Packed(buf, n_scal, (B, th, tw), rows, sky_at, n_scal + n_out, n_scal + n_out + 4 * n_px)

    def _fit_sky(self, hints: list[RangeHint], shape: tuple[int, int], device):
        """The prior's sky of a group at the fit maps' size for :func:`fit_depth_torch`: None
        without hints (the default: nothing uploaded); else a small pinned, non-blocking upload."""
        import torch
        if all(h.sky is None or not h.sky.size for h in hints):
            return None
        return _upload(torch.from_numpy(np.stack([_prior_sky(h, shape) for h in hints])), device)

    def _copy_back(self, packed: _Packed, streams: _Streams):
        """The packed buffer to the host: one copy per batch, on the copy stream on CUDA
        (so it overlaps the next batch's forward) -> (host uint8 tensor, event or None)."""
        if not self._cuda:
            return packed.buf, None
        import torch
        ev = streams.record()
        streams.d2h.wait_event(ev)
        with torch.cuda.stream(streams.d2h):
            host = _to_host(packed.buf, True)
            packed.buf.record_stream(streams.d2h)  # made on compute, read on d2h
            done = torch.cuda.Event()
            done.record(streams.d2h)
        return host, done

    def _launch(self, idx: list[int], plans: list[_Plan], preps: list, streams: _Streams) -> _Launched:
        ps = [plans[i] for i in idx]
        hints = [h for _, h in preps]
        x = self._upload_preprocess([t for t, _ in preps], ps, streams)
        with streams.on_compute():
            pred = self._model_forward(x)
        packed = self._device_post(pred, ps, hints, streams)
        host, ev = self._copy_back(packed, streams)
        return _Launched(idx, ps, hints, packed, host, ev)

    def _finish(self, L: _Launched, pool: ThreadPoolExecutor | None) -> list:
        """Wait for the batch's copy (this bounds the work queued on the device), then build
        its lazy maps (views and small copies only: the fit came from the device)."""
        _wait(L.event)
        pk = L.packed
        host = L.host.numpy()
        scal = host[:pk.n_scal].view(np.float64).reshape(-1, _NSCAL)
        B, th, tw = pk.out_shape
        out = host[pk.n_scal:pk.n_scal + B * th * tw * 4].view(np.float32).reshape(B, th, tw)
        jobs = [(i, k, L, out, scal, host) for k, i in enumerate(L.idx)]
        if pool is None:
            return [self._build(*j) for j in jobs]
        return [pool.submit(self._build, *j) for j in jobs]

    def _build(self, i: int, k: int, L: _Launched, out: np.ndarray, scal: np.ndarray,
               host: np.ndarray) -> tuple[int, DepthMap]:
        """Image k of batch L: its fit from the device's scalars and a lazy map of its crop. A
        sky whose propagation had not converged in the device's fixed rounds (ragged noise;
        no real sky) is fitted here by the reference, on the fit map that came back with it."""
        p, hint, pk = L.plans[k], L.hints[k], L.packed
        stats = scal[pk.rows[k]]
        off, (sh, sw) = pk.sky_at[k]
        kh = _fit_factors(p.nh, p.nw, self.options.fit_side)[0]
        frame = fit_frame(p.nh, p.nw, kh, sh, self.options.scale.fov_deg)
        if stats[3]:  # converged
            sky = host[off:off + sh * sw].view(bool).reshape(sh, sw).copy()  # own memory: small
            fit = fit_from_stats(stats, self.kind, hint, self._prior.options.sky_depth, sky, self.options.scale,
                                 frame.focal)
        else:
            px = pk.smalls_at + 4 * (off - pk.sky_start)
            small = host[px:px + 4 * sh * sw].view(np.float32).reshape(sh, sw)
            fit = fit_depth(small, self.kind, hint, self._prior.options.sky_depth, self.options.scale, frame)
        crop = out[k, :p.nh, :p.nw]
        if not (self._cuda and self.options.pinned_outputs):
            crop = np.array(crop)  # own memory: the batch buffer returns to the cache
        return i, self._lazy_map(crop, (p.h, p.w), fit)


@dataclass(frozen=True)
class _Plan:
    h: int
    w: int
    nh: int
    nw: int
    th: int
    tw: int
    down: bool


_NSCAL = NSTATS
"""Fit statistics per painting in the packed buffer (:data:`.fit.NSTATS`)."""


@dataclass
class _Packed:
    """A batch's device results packed into one byte buffer (see ``_device_post``)."""

    buf: object
    """uint8 device tensor: [statistics (B, NSTATS) float64 | output (B, th, tw) float32 | fit maps
    float32 | sky masks uint8]."""
    n_scal: int
    """Bytes of the scalars (the output starts there)."""
    out_shape: tuple
    """(B, th, tw) of the output."""
    rows: list
    """Row of each image in the scalars."""
    sky_at: list
    """(byte offset, (sh, sw)) of each image's small sky mask."""
    smalls_at: int
    """Byte offset of the fit maps (float32, in the same order and pixel offsets as the masks)."""
    sky_start: int
    """Byte offset of the first sky mask."""


@dataclass
class _Launched:
    idx: list
    """The batch's image indices."""
    plans: list
    """Their plans."""
    hints: list
    """RangeHint per image."""
    packed: _Packed
    """The device results."""
    host: object
    """Host copy of ``packed.buf`` (pinned on CUDA; the device buffer itself on CPU)."""
    event: object
    """CUDA event after the copy (None on other devices)."""


def _to_host(t, cuda: bool):
    """A host copy of a device tensor: pinned and non-blocking on CUDA (wait on an event
    before reading it); the tensor itself on CPU."""
    if not cuda:
        return t
    import torch
    h = torch.empty(t.shape, dtype=t.dtype, pin_memory=True)
    h.copy_(t, non_blocking=True)
    return h


def _wait(ev) -> None:
    """Wait for a CUDA event without holding the GIL for long (query + short sleeps)."""
    if ev is None:
        return
    while not ev.query():
        time.sleep(0.0002)


class _Streams:
    """compute / host-to-device / device-to-host streams on CUDA; nothing on other devices."""

    def __init__(self, device: str) -> None:
        import torch
        self.cuda = device.startswith("cuda")
        if self.cuda:
            dev = torch.device(device)
            self.compute = torch.cuda.Stream(dev)
            self.h2d = torch.cuda.Stream(dev)
            self.d2h = torch.cuda.Stream(dev)
            # work already queued on the current stream (weights, constants) comes first
            self.compute.wait_stream(torch.cuda.current_stream(dev))

    def on_compute(self):
        if not self.cuda:
            return contextlib.nullcontext()
        import torch
        return torch.cuda.stream(self.compute)

    def record(self):
        if not self.cuda:
            return None
        import torch
        ev = torch.cuda.Event()
        ev.record(self.compute)
        return ev


__all__ = ["TransformersEstimator", "TransformersOptions", "DEFAULT_TRANSFORMERS_OPTIONS", "check_folder",
           "derive_sky", "pick_device", "fit_depth", "apply_fit", "block_mean", "edge_strength", "DepthFit",
           "RangeHint", "LazyMaps", "fit_depth_torch", "fit_depth_device", "top_connected_torch"]

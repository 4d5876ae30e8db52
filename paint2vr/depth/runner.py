"""The device runner of a learned depth model: device and dtype, the model's input geometry,
preprocessing, batches, streams and the forward pass; the fast (batched, pipelined) path
and its slow numpy/cv2 reference.

Resizing (never squashing): each painting is scaled so its *short* side equals the model's
input size, the long side is capped at ``max_aspect`` times that (very elongated paintings
are then seen at a lower resolution rather than tiled), and the result is padded at the
bottom/right by edge replication up to a multiple of the model's patch size
(``ensure_multiple_of`` / ``size_divisor`` / the backbone's patch size). The padding is
cropped from the output. Depth Pro needs a fixed square input: the painting is letterboxed
into it instead.

Fast path (:meth:`ModelRunner.run`): uint8 paintings are uploaded (pinned, non-blocking on
CUDA), resized, padded and normalised on the device, batched by padded shape and run through
the model (fp16 on CUDA). The device then makes the output nan-free and runs the output fit
(:meth:`.model_output.ModelOutput.fit_device`) on small fit maps; the batch's output (model
resolution), fit maps and fit statistics come back in one copy. On the host, per painting, the
fit is finished and a *lazy* DepthMap built (:meth:`.model_output.ModelOutput.lazy_map`): its
full-resolution maps are made on first read, by the consumer, in its own thread or process.
Batch k+1 is enqueued before batch k's results are collected, on separate copy/compute
streams, and host work runs in a thread pool. :meth:`ModelRunner.reference` is the slow
numpy/cv2 version of the same steps, one painting at a time, and returns eager maps.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import cv2
import numpy as np

from ..errors import InputError
from .base import DepthMap
from .fit import NSTATS, RangeHint
from .imageops import check_rgb
from .model_options import DEVICE_PATTERN, TransformersOptions
from .model_output import ModelOutput

LOOKAHEAD = 2
"""Batches whose host preparation (pinning, small prior) is queued ahead of the device."""
IN_FLIGHT = 1
"""Batches enqueued on the device beyond the one whose results are being collected."""


def pick_device(device: str) -> str:
    """The torch device for an option value: 'auto' is cuda, then mps, then cpu."""
    import torch
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if not DEVICE_PATTERN.match(device):
        raise InputError(f"unknown device {device!r}", hint="use auto, cpu, cuda, cuda:N or mps")
    return device


@dataclass(frozen=True)
class Plan:
    """Model input geometry of one painting."""

    h: int
    w: int
    nh: int
    """Resized height (the valid rows of the input and of the output's crop)."""
    nw: int
    th: int
    """Padded input height (a batch shares it)."""
    tw: int
    down: bool
    """Whether the painting is scaled down (area filter) rather than up (cubic)."""


class ModelRunner:
    """A loaded transformers depth model on its device (``options``: device, fp16, input
    size, max aspect, batch size, host threads, pinned outputs; read when used)."""

    def __init__(self, model: Any, config: Any, proc: dict, options: TransformersOptions) -> None:
        import torch
        self.model, self.config, self.proc, self.options = model, config, proc, options
        self.device = pick_device(options.device)
        self.dtype = torch.float16 if (self.device.startswith("cuda") and options.fp16) else torch.float32
        self.model.to(self.device, dtype=self.dtype).eval()
        self.fixed_square = getattr(config, "model_type", "") == "depth_pro"
        self.multiple = int(proc.get("ensure_multiple_of") or proc.get("size_divisor")
                            or proc.get("size_divisibility") or self._patch_size() or 14)
        self.input_size = int(options.input_size or self._proc_size() or 518)
        self.cuda = self.device.startswith("cuda")
        scale, mean, std = self.norm()
        self._norm_t = (scale, torch.from_numpy(mean).view(3, 1, 1).to(self.device),
                        torch.from_numpy(std).view(3, 1, 1).to(self.device))

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
    def plan(self, h: int, w: int) -> Plan:
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
        return Plan(h, w, nh, nw, th, tw, s < 1)

    def norm(self) -> tuple[float, np.ndarray, np.ndarray]:
        """(rescale factor, mean, std) of the model's input normalisation."""
        scale = 1.0 / 255.0 if self.proc.get("do_rescale", True) is not False else 1.0
        if self.proc.get("do_normalize", True) is not False:
            mean = np.asarray(self.proc.get("image_mean") or (0.485, 0.456, 0.406), np.float32)
            std = np.asarray(self.proc.get("image_std") or (0.229, 0.224, 0.225), np.float32)
        else:
            mean, std = np.zeros(3, np.float32), np.ones(3, np.float32)
        return scale, mean, std

    def prepare(self, rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """Reference (cv2) preprocessing -> (padded float32 (3, H', W') input, (valid h, valid w))."""
        p = self.plan(*rgb.shape[:2])
        img = cv2.resize(rgb, (p.nw, p.nh), interpolation=cv2.INTER_AREA if p.down else cv2.INTER_CUBIC)
        img = cv2.copyMakeBorder(img, 0, p.th - p.nh, 0, p.tw - p.nw, cv2.BORDER_REPLICATE)
        scale, mean, std = self.norm()
        x = (img.astype(np.float32) * np.float32(scale) - mean) / std
        return np.ascontiguousarray(x.transpose(2, 0, 1)), (p.nh, p.nw)

    def prepare_torch(self, img: Any, p: Plan) -> Any:
        """Device preprocessing of one (h, w, 3) uint8 tensor -> float32 (3, th, tw); the same
        steps as :meth:`prepare` (antialiased bilinear stands in for cv2's area filter)."""
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

    # -- the model ------------------------------------------------------------------------
    def forward(self, batch: np.ndarray) -> np.ndarray:
        """(B, 3, H, W) float32 host batch -> (B, H', W') float32 host prediction."""
        import torch
        with torch.inference_mode():
            t = torch.from_numpy(batch).to(self.device, dtype=self.dtype)
            return self.model_forward(t).cpu().numpy()

    def model_forward(self, x: Any) -> Any:
        """(B, 3, H, W) model-dtype tensor -> (B, H', W') float32 prediction (on the device)."""
        out = self.model(pixel_values=x).predicted_depth
        if out.ndim == 4:
            out = out[:, 0]
        return out.float()

    def raw(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Model output per image at full resolution (disparity or metres), float32 (reference path)."""
        outs = []
        for img in images:
            check_rgb(img)
            x, (nh, nw) = self.prepare(img)
            p = self.forward(x[None])[0]
            if p.shape != x.shape[1:]:
                p = cv2.resize(p, (x.shape[2], x.shape[1]), interpolation=cv2.INTER_LINEAR)
            h, w = img.shape[:2]
            outs.append(cv2.resize(np.ascontiguousarray(p[:nh, :nw]), (w, h), interpolation=cv2.INTER_LINEAR))
        return outs

    # -- the reference path (numpy/cv2, one image at a time) --------------------------------
    def reference(self, images: Sequence[np.ndarray], output: ModelOutput) -> list[DepthMap]:
        """Slow, obvious version of :meth:`run`: cv2 preprocessing, one forward pass per
        image, numpy/cv2 post-processing. The tests check the fast path against it."""
        out = []
        for img in images:
            check_rgb(img)
            p = self.plan(*img.shape[:2])
            x, _ = self.prepare(img)
            pred = self.forward(x[None])[0]
            if pred.shape != (p.th, p.tw):
                pred = cv2.resize(pred, (p.tw, p.th), interpolation=cv2.INTER_LINEAR)
            crop = np.nan_to_num(pred[:p.nh, :p.nw], nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
            fit = output.fit_crop(crop, output.range_hint(img))
            out.append(output.depth_map(crop, (p.h, p.w), fit))
        return out

    # -- the fast path: batched, pipelined, on the device ---------------------------------------
    def run(self, images: Sequence[np.ndarray], output: ModelOutput,
            prepare: Callable[[Any, Plan], Any] | None = None) -> list[DepthMap]:
        """Depth of each painting, batched by padded input shape and pipelined: host work
        (pinning, the small prior, building DepthMaps) runs in a thread pool, and batch k+1 is
        enqueued on the device before batch k's results are waited for. ``prepare``: the
        device preprocessing of one painting (default :meth:`prepare_torch`)."""
        import torch
        for img in images:
            check_rgb(img)
        if not images:
            return []
        plans = [self.plan(*img.shape[:2]) for img in images]
        batches = self.batches(plans)
        out: list[DepthMap | None] = [None] * len(images)
        streams = Streams(self.device)
        with ThreadPoolExecutor(self.threads()) as pool, torch.inference_mode():
            prep: dict[int, Future] = {}

            def submit(b: int) -> None:
                if b < len(batches):
                    for i in batches[b]:
                        prep[i] = pool.submit(self.host_prep, images[i], output)

            for b in range(LOOKAHEAD):
                submit(b)
            pending: deque = deque()
            built: list[Future] = []
            for b, idx in enumerate(batches):
                submit(b + LOOKAHEAD)
                preps = [prep.pop(i).result() for i in idx]
                pending.append(self.launch(idx, plans, preps, streams, output, prepare))
                if len(pending) > IN_FLIGHT:
                    built += self.finish(pending.popleft(), output, pool)
            while pending:
                built += self.finish(pending.popleft(), output, pool)
            for f in built:
                i, dm = f.result()
                out[i] = dm
        return out  # type: ignore[return-value]

    def threads(self) -> int:
        """Threads of the host pool."""
        return self.options.host_threads or max(1, min(8, os.cpu_count() or 1))

    def batches(self, plans: list[Plan]) -> list[list[int]]:
        """Image indices per batch: same padded shape, at most ``batch_size`` each."""
        groups: dict[tuple[int, int], list[int]] = {}
        for i, p in enumerate(plans):
            groups.setdefault((p.th, p.tw), []).append(i)
        bs = self.options.batch_size
        return [idx[k:k + bs] for idx in groups.values() for k in range(0, len(idx), bs)]

    def host_prep(self, rgb: np.ndarray, output: ModelOutput) -> tuple[Any, RangeHint]:
        """(host uint8 tensor, pinned on CUDA; RangeHint) for one painting (runs in the pool)."""
        import torch
        if self.cuda:
            t = torch.empty(rgb.shape, dtype=torch.uint8, pin_memory=True)
            np.copyto(t.numpy(), rgb)
        else:
            t = torch.from_numpy(rgb if rgb.flags.writeable and rgb.flags.c_contiguous else rgb.copy())
        return t, output.range_hint(rgb)

    def upload_preprocess(self, hosts: list, plans: list[Plan], streams: Streams,
                          prepare: Callable[[Any, Plan], Any] | None = None) -> Any:
        """Upload (copy stream, non-blocking) and preprocess into one model-dtype batch."""
        import torch
        prepare = prepare or self.prepare_torch
        if self.cuda:
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
            return torch.stack([prepare(g, p) for g, p in zip(dev, plans)]).to(self.dtype)

    def device_post(self, pred: Any, plans: list[Plan], hints: list[RangeHint], streams: Streams,
                    output: ModelOutput) -> Packed:
        """After the forward, on the compute stream: the nan-free output, and the output fit of
        each painting (:meth:`.model_output.ModelOutput.fit_device`, one call per crop shape),
        all packed into one device byte buffer: [fit statistics (B, NSTATS) float64 | output
        (B, th, tw) float32 | fit maps float32 | small sky masks uint8]. The fit maps only serve
        the host's fallback for a sky that had not converged."""
        import torch
        import torch.nn.functional as F
        B = len(plans)
        th, tw = plans[0].th, plans[0].tw  # a batch shares its padded shape
        groups: dict[tuple[int, int], list[int]] = {}
        for k, p in enumerate(plans):
            groups.setdefault((p.nh, p.nw), []).append(k)
        shapes = {key: output.fit_shape(*key) for key in groups}
        n_scal, n_out = B * NSTATS * 8, B * th * tw * 4
        n_px = sum(len(ks) * shapes[key][0] * shapes[key][1] for key, ks in groups.items())
        rows: list = [None] * B
        sky_at: list = [None] * B
        with streams.on_compute():
            buf = torch.empty(n_scal + n_out + 5 * n_px, dtype=torch.uint8, device=pred.device)
            scal = buf[:n_scal].view(torch.float64).view(B, NSTATS)
            out = buf[n_scal:n_scal + n_out].view(torch.float32).view(B, th, tw)
            if tuple(pred.shape[1:]) != (th, tw):
                pred = F.interpolate(pred[:, None], size=(th, tw), mode="bilinear", align_corners=False)[:, 0]
            torch.nan_to_num(pred, nan=0.0, posinf=0.0, neginf=0.0, out=out)
            row, off = 0, n_scal + n_out + 4 * n_px  # sky masks after the fit maps
            smalls = buf[n_scal + n_out:n_scal + n_out + 4 * n_px].view(torch.float32)
            for (nh, nw), ks in groups.items():  # one pooling and one fit per crop shape
                sel = out if len(ks) == B else torch.stack([out[k] for k in ks])  # no index upload
                small, sky, sc = output.fit_device(sel[:, :nh, :nw], [hints[k] for k in ks])
                sh, sw = small.shape[1:]
                scal[row:row + len(ks)] = sc
                n = len(ks) * sh * sw
                buf[off:off + n] = sky.reshape(-1).view(torch.uint8)
                px = off - (n_scal + n_out + 4 * n_px)  # this group's first pixel
                smalls[px:px + n] = small.reshape(-1)
                for j, k in enumerate(ks):
                    rows[k], sky_at[k] = row + j, (off + j * sh * sw, (sh, sw))
                row, off = row + len(ks), off + n
        return Packed(buf, n_scal, (B, th, tw), rows, sky_at, n_scal + n_out, n_scal + n_out + 4 * n_px)

    def copy_back(self, packed: Packed, streams: Streams) -> tuple[Any, Any]:
        """The packed buffer to the host: one copy per batch, on the copy stream on CUDA
        (so it overlaps the next batch's forward) -> (host uint8 tensor, event or None)."""
        if not self.cuda:
            return packed.buf, None
        import torch
        ev = streams.record()
        streams.d2h.wait_event(ev)
        with torch.cuda.stream(streams.d2h):
            host = to_host(packed.buf, True)
            packed.buf.record_stream(streams.d2h)  # made on compute, read on d2h
            done = torch.cuda.Event()
            done.record(streams.d2h)
        return host, done

    def launch(self, idx: list[int], plans: list[Plan], preps: list, streams: Streams, output: ModelOutput,
               prepare: Callable[[Any, Plan], Any] | None = None) -> Launched:
        """Enqueue one batch: upload, preprocess, forward, the device fit and the copy back."""
        ps = [plans[i] for i in idx]
        hints = [h for _, h in preps]
        x = self.upload_preprocess([t for t, _ in preps], ps, streams, prepare)
        with streams.on_compute():
            pred = self.model_forward(x)
        packed = self.device_post(pred, ps, hints, streams, output)
        host, ev = self.copy_back(packed, streams)
        return Launched(idx, ps, hints, packed, host, ev)

    def finish(self, L: Launched, output: ModelOutput, pool: ThreadPoolExecutor | None) -> list:
        """Wait for the batch's copy (this bounds the work queued on the device), then build
        its lazy maps (views and small copies only: the fit came from the device); in ``pool``
        (futures of (index, map)) or here ((index, map) pairs)."""
        wait(L.event)
        pk = L.packed
        host = L.host.numpy()
        scal = host[:pk.n_scal].view(np.float64).reshape(-1, NSTATS)
        B, th, tw = pk.out_shape
        out = host[pk.n_scal:pk.n_scal + B * th * tw * 4].view(np.float32).reshape(B, th, tw)
        jobs = [(i, k, L, out, scal, host, output) for k, i in enumerate(L.idx)]
        if pool is None:
            return [self._build(*j) for j in jobs]
        return [pool.submit(self._build, *j) for j in jobs]

    def _build(self, i: int, k: int, L: Launched, out: np.ndarray, scal: np.ndarray, host: np.ndarray,
               output: ModelOutput) -> tuple[int, DepthMap]:
        """Image k of batch L: its fit from the device's numbers and a lazy map of its crop."""
        p, pk = L.plans[k], L.packed
        off, (sh, sw) = pk.sky_at[k]
        sky = host[off:off + sh * sw].view(bool).reshape(sh, sw)
        px = pk.smalls_at + 4 * (off - pk.sky_start)
        small = host[px:px + 4 * sh * sw].view(np.float32).reshape(sh, sw)
        fit = output.fit_from_device(p.nh, p.nw, scal[pk.rows[k]], sky, small, L.hints[k])
        crop = out[k, :p.nh, :p.nw]
        if not (self.cuda and self.options.pinned_outputs):
            crop = np.array(crop)  # own memory: the batch buffer returns to the cache
        return i, output.lazy_map(crop, (p.h, p.w), fit)


@dataclass
class Packed:
    """A batch's device results packed into one byte buffer (see :meth:`ModelRunner.device_post`)."""

    buf: Any
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
class Launched:
    """A batch enqueued on the device, waiting to be collected."""

    idx: list
    """The batch's image indices."""
    plans: list
    """Their plans."""
    hints: list
    """RangeHint per image."""
    packed: Packed
    """The device results."""
    host: Any
    """Host copy of ``packed.buf`` (pinned on CUDA; the device buffer itself on CPU)."""
    event: Any
    """CUDA event after the copy (None on other devices)."""


def to_host(t: Any, cuda: bool) -> Any:
    """A host copy of a device tensor: pinned and non-blocking on CUDA (wait on an event
    before reading it); the tensor itself on CPU."""
    if not cuda:
        return t
    import torch
    h = torch.empty(t.shape, dtype=t.dtype, pin_memory=True)
    h.copy_(t, non_blocking=True)
    return h


def wait(ev: Any) -> None:
    """Wait for a CUDA event without holding the GIL for long (query + short sleeps)."""
    if ev is None:
        return
    while not ev.query():
        time.sleep(0.0002)


class Streams:
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

    def on_compute(self) -> Any:
        if not self.cuda:
            return contextlib.nullcontext()
        import torch
        return torch.cuda.stream(self.compute)

    def record(self) -> Any:
        if not self.cuda:
            return None
        import torch
        ev = torch.cuda.Event()
        ev.record(self.compute)
        return ev

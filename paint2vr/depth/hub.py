"""Learned depth models: where a checkpoint comes from, and whether it is safe to load.

A local folder must hold a config.json and safetensors weights (pickled weights are refused:
unpickling runs arbitrary code); a hub id is read from the local cache first, then fetched at
its pinned revision when the hub is reachable (never with ``HF_HUB_OFFLINE``). Weights load
with ``use_safetensors=True`` and ``trust_remote_code=False``. The only module of paint2vr that
imports transformers.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError, ModelNotFoundError, UnsafeModelError
from . import model_checks

log = logging.getLogger(__name__)

PICKLE_SUFFIXES = (".bin", ".pt", ".ckpt", ".pth", ".pkl")


@dataclass
class Checkpoint:
    """A loaded checkpoint: the transformers config and model (on the CPU) and its
    preprocessor settings."""

    config: Any
    model: Any
    proc: dict
    source: str
    local: bool


def load_checkpoint(src: str, revision: str = "main", pull_name: str | None = None) -> Checkpoint:
    """Resolve ``src`` (a folder or a hub id) and load it safely.

    Raises:
        ModelNotFoundError: not available locally and not fetchable. UnsafeModelError: no
        safetensors weights. ModelError: transformers/torch missing.
    """
    local = Path(src).is_dir()
    label = pull_name or src
    if local:
        check_folder(Path(src))
        model_checks.check_model_folder(Path(src))
    try:
        from transformers import AutoConfig, AutoModelForDepthEstimation
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise ModelError(f"transformers/torch are needed for learned depth ({exc})") from None
    kw = dict(revision=None if local else revision, trust_remote_code=False)
    only_local = local or _offline()
    fetch = f"paint2vr models pull {label}" if pull_name else "paint2vr models pull NAME (or a local folder)"
    try:
        config = AutoConfig.from_pretrained(src, local_files_only=True, **kw)
    except (OSError, ValueError) as exc:
        if only_local or not _hub_reachable():
            why = "HF_HUB_OFFLINE is set" if _offline() else ("not found" if local else "no network")
            raise ModelNotFoundError(f"depth model {label!r} is not available locally ({why})",
                                     hint=f"fetch it with '{fetch}'") from None
        try:
            config = AutoConfig.from_pretrained(src, **kw)
        except (OSError, ValueError) as exc2:
            raise ModelNotFoundError(f"depth model {label!r} could not be loaded ({exc2})",
                                     hint=f"fetch it with '{fetch}'") from None
        only_local = False
        del exc
    except Exception as exc:  # a config transformers cannot build (nested wrong types, unknown type)
        raise model_checks.load_error(label, exc) from None
    model_checks.check_config(config.to_dict(), label)
    try:
        model, loading = AutoModelForDepthEstimation.from_pretrained(
            src, use_safetensors=True, local_files_only=only_local, output_loading_info=True, **kw)
    except (OSError, ValueError, EnvironmentError) as exc:
        raise UnsafeModelError(f"{label}: could not load safetensors weights ({exc})",
                               hint="only safetensors checkpoints are accepted") from None
    except Exception as exc:  # SafetensorError, RuntimeError (shapes), ...: one line
        raise model_checks.load_error(label, exc) from None
    model_checks.check_loading_info(label, loading)
    proc = _processor_config(src, local, revision, only_local)
    model_checks.check_preprocessor(proc, label)
    if not proc:
        log.warning("%s: no preprocessor_config.json; using ImageNet mean/std", label)
    return Checkpoint(config, model, proc, src, local)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _hub_reachable(timeout: float = 1.5) -> bool:
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def check_folder(folder: Path) -> None:
    """Refuse folders without config or with pickled weights only."""
    if not (folder / "config.json").is_file():
        raise ModelNotFoundError(f"{folder}: no config.json, not a transformers model folder",
                                 hint="give a folder made by save_pretrained or 'paint2vr models pull NAME'")
    files = [p for p in folder.rglob("*") if p.is_file()]
    if not any(p.suffix == ".safetensors" for p in files):
        pickled = [p.name for p in files if p.suffix in PICKLE_SUFFIXES]
        if pickled:
            raise UnsafeModelError(
                f"{folder}: only pickled weights ({', '.join(sorted(pickled))}); refusing to load them",
                hint="loading pickle files can run arbitrary code; convert the checkpoint to safetensors "
                     "(save_pretrained(..., safe_serialization=True)) or pull the model's safetensors")
        raise ModelNotFoundError(f"{folder}: no *.safetensors weights", hint="the folder is incomplete")


def _processor_config(src: str, local: bool, revision: str, only_local: bool) -> dict:
    """The model's preprocessor_config.json as a dict (read directly: our own preprocessing
    only needs size, mean/std and the size multiple)."""
    try:
        if local:
            path = Path(src) / "preprocessor_config.json"
        else:
            from huggingface_hub import hf_hub_download
            path = Path(hf_hub_download(src, "preprocessor_config.json", revision=revision,
                                        local_files_only=only_local))
        return json.loads(path.read_text())
    except Exception as exc:  # any failure means "no processor config": defaults apply
        log.debug("no preprocessor config for %s: %s", src, exc)
        return {}


def read_model_json(folder: Path) -> dict:
    """config.json of a local folder (for listings)."""
    try:
        return json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return {}



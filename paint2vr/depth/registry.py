"""The registry of depth checkpoints (``registry.toml``, shipped inside the package) and pulling
their weights into a user cache (never the source tree or the installed package)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..io.atomic import replace_folder
from ..errors import InputError, LicenseError, ModelError, ModelNotFoundError

log = logging.getLogger(__name__)

DEFAULT_REGISTRY = Path(__file__).resolve().with_name("registry.toml")
"""The registry file shipped with paint2vr as package data (override with ``PAINT2VR_REGISTRY``)."""
ALLOW_PATTERNS = ("*.safetensors", "*.json", "*.txt")
"""The only files :func:`pull` downloads: never pickled weights."""
_REQUIRED = {"hub_id": str, "revision": str, "input_size": int, "kind": str, "license": str,
             "commercial_use": bool}


@dataclass(frozen=True)
class ModelEntry:
    """One registry entry."""

    name: str
    """Registry name (the TOML table key)."""
    hub_id: str
    """Hugging Face hub repository id."""
    revision: str
    """Commit hash or branch ('main' where no commit was pinned)."""
    input_size: int
    """Short side (pixels) the model sees."""
    kind: str
    """'relative' (disparity-like output) or 'metric' (metres)."""
    license: str
    """Licence of the weights as the model card states it."""
    commercial_use: bool
    """Whether that licence allows commercial use."""
    note: str = ""
    """Caveats (unconfirmed licence, training data terms)."""


class RegistryError(ModelError):
    """A registry file or entry that is malformed."""


def registry_path() -> Path:
    return Path(os.environ.get("PAINT2VR_REGISTRY", DEFAULT_REGISTRY))


def cache_dir() -> Path:
    """paint2vr's user cache: ``$PAINT2VR_CACHE``, else ``$XDG_CACHE_HOME/paint2vr``, else
    ``~/.cache/paint2vr``."""
    env = os.environ.get("PAINT2VR_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "paint2vr"


def weights_dir() -> Path:
    """Where :func:`pull` stores checkpoints: ``$PAINT2VR_WEIGHTS``, else ``cache_dir()/models``."""
    env = os.environ.get("PAINT2VR_WEIGHTS")
    return Path(env).expanduser() if env else cache_dir() / "models"


def load_registry(path: str | os.PathLike[str] | None = None) -> dict[str, ModelEntry]:
    """Read and validate the registry; raises :class:`RegistryError` naming the bad entry."""
    p = Path(path) if path is not None else registry_path()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{p}: registry file not found", hint="set PAINT2VR_REGISTRY, or reinstall paint2vr (registry.toml ships with it)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{p}: not valid TOML ({exc})") from None
    models = data.get("models")
    if not isinstance(models, dict):
        raise RegistryError(f"{p}: expected [models.NAME] tables, found none")
    out: dict[str, ModelEntry] = {}
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise RegistryError(f"{p}: models.{name} must be a table")
        for key, typ in _REQUIRED.items():
            if key not in entry:
                raise RegistryError(f"{p}: models.{name} lacks {key!r}",
                                    hint=f"every entry needs: {', '.join(_REQUIRED)}")
            if not isinstance(entry[key], typ) or (typ is int and isinstance(entry[key], bool)):
                raise RegistryError(f"{p}: models.{name}.{key} must be {typ.__name__}, "
                                    f"got {type(entry[key]).__name__} {entry[key]!r}")
        if entry["kind"] not in ("relative", "metric"):
            raise RegistryError(f"{p}: models.{name}.kind must be 'relative' or 'metric', got {entry['kind']!r}")
        if entry["input_size"] < 14:
            raise RegistryError(f"{p}: models.{name}.input_size must be >= 14, got {entry['input_size']}")
        unknown = set(entry) - set(_REQUIRED) - {"note"}
        if unknown:
            raise RegistryError(f"{p}: models.{name} has unknown key(s) {sorted(unknown)}")
        out[name] = ModelEntry(name=name, note=str(entry.get("note", "")),
                               **{k: entry[k] for k in _REQUIRED})
    return out


def get_entry(name: str, registry: dict[str, ModelEntry] | None = None) -> ModelEntry:
    reg = load_registry() if registry is None else registry
    if name not in reg:
        raise ModelNotFoundError(f"no model named {name!r} in the registry",
                                 hint=f"known models: {', '.join(sorted(reg))}; or give a local folder")
    return reg[name]


def check_license(entry: ModelEntry, commercial: bool) -> None:
    """Raise :class:`LicenseError` if a commercial run asks for a non-commercial model."""
    if commercial and not entry.commercial_use:
        raise LicenseError(f"model {entry.name!r} is licensed {entry.license}, which does not allow commercial use",
                           hint="pick a commercial-use model (e.g. depth-anything-v2-small or 'prior'), "
                                "or drop --commercial")


def _reason(exc: BaseException) -> str:
    """An exception as one short line (huggingface_hub's messages span several)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]


def pull(name: str, dest: str | os.PathLike[str] | None = None) -> Path:
    """Download a registry model's safetensors/json/txt files into ``dest`` (default
    ``weights_dir()/NAME``, in the user cache); returns the folder.

    The files go to a temporary folder beside the target first, renamed into place when
    complete: a failed pull leaves nothing behind (no empty or half-filled folder).

    Raises:
        ModelNotFoundError: unknown name, offline (``HF_HUB_OFFLINE``), or no network.
    """
    entry = get_entry(name)
    target = Path(dest) if dest is not None else weights_dir() / name
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise ModelNotFoundError(f"cannot download {name!r} ({entry.hub_id}): HF_HUB_OFFLINE is set",
                                 hint=f"unset HF_HUB_OFFLINE and run 'paint2vr models pull {name}' on a networked machine")
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
        from huggingface_hub.utils import logging as hf_logging
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise ModelError(f"huggingface_hub is needed to pull models ({exc})") from None
    made = [p for p in [target.parent, *target.parent.parents] if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its retry warnings would print beside our one error line
    try:
        snapshot_download(repo_id=entry.hub_id, revision=entry.revision, local_dir=str(staging),
                          allow_patterns=list(ALLOW_PATTERNS))
        if not any(staging.glob("*.safetensors")):
            raise ModelNotFoundError(f"{entry.hub_id} has no safetensors weights",
                                     hint="this model cannot be used safely")
        shutil.rmtree(staging / ".cache", ignore_errors=True)  # huggingface_hub's download state
        replace_folder(staging, target)
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        _cleanup(staging, made)
        raise ModelNotFoundError(f"could not download {name!r} ({entry.hub_id}@{entry.revision}): {_reason(exc)}",
                                 hint=f"check the network and run 'paint2vr models pull {name}' again") from None
    except BaseException:
        _cleanup(staging, made)
        raise
    finally:
        hf_logging.set_verbosity(verbosity)
    log.info("pulled %s into %s", name, target)
    return target


def _cleanup(staging: Path, made: list[Path]) -> None:
    """Remove the staging folder and the (now empty) folders this pull created."""
    shutil.rmtree(staging, ignore_errors=True)
    for folder in made:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            break


def local_folder(name: str) -> Path | None:
    """The pulled folder of a registry model, if it holds weights."""
    p = weights_dir() / name
    return p if p.is_dir() and any(p.glob("*.safetensors")) else None


__all__ = ["ModelEntry", "RegistryError", "load_registry", "get_entry", "check_license", "pull",
           "local_folder", "cache_dir", "weights_dir", "ALLOW_PATTERNS", "InputError"]

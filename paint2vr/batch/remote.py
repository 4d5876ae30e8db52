"""Remote manifest locations (fsspec): bounded time per location and clear reasons.

Object-store clients wait a minute or more per attempt and retry several times by default,
so one endpoint that accepts connections and never answers would stall a check for many
minutes per row. Every remote call here goes through a filesystem built with connect and
read timeouts and one attempt; failures are turned into one line that says what to do.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

REMOTE_TIMEOUT_S = 10.0
"""Default connect and read timeout (seconds) of each remote request."""
REMOTE_PACKAGES = {"s3": "s3fs", "gs": "gcsfs", "az": "adlfs"}


def _scheme(location: str) -> str:
    scheme = urlsplit(location).scheme.lower()
    return "" if len(scheme) <= 1 else scheme


def storage_options(protocol: str, timeout: float) -> dict[str, Any]:
    """fsspec keyword arguments that bound the time of one request on ``protocol``."""
    if protocol == "s3":
        return {"config_kwargs": {"connect_timeout": timeout, "read_timeout": timeout,
                                  "retries": {"max_attempts": 1}}}
    if protocol == "gs":
        return {"requests_timeout": timeout}
    if protocol == "az":
        return {"timeout": int(max(1, timeout)), "connection_timeout": int(max(1, timeout))}
    return {}


def url_to_fs(location: str, timeout: float = REMOTE_TIMEOUT_S) -> tuple[Any, str]:
    """(filesystem, path) of a URL, the filesystem bounded by ``timeout`` per request."""
    import fsspec
    protocol = _scheme(location)
    fs, path = fsspec.core.url_to_fs(location, **storage_options(protocol, timeout))
    if protocol == "s3" and hasattr(fs, "retries"):
        fs.retries = 1  # s3fs's own retry loop, on top of botocore's
    return fs, path


def remote_problem(location: str, exc: BaseException) -> str:
    """A one-line reason why a remote location cannot be read."""
    protocol = _scheme(location)
    name = type(exc).__name__
    if isinstance(exc, ImportError):
        pkg = REMOTE_PACKAGES.get(protocol, "the fsspec backend")
        return f"cannot read {location!r}: {protocol}:// needs the {pkg} package (pip install {pkg})"
    if name in ("NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError",
                "ClientAuthenticationError", "CredentialRetrievalError"):
        return (f"cannot read {location!r}: no credentials for {protocol}:// ({name}); set them "
                "in the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for s3) or the "
                "client's config file")
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return f"cannot read {location!r}: the endpoint did not answer in time ({name})"
    if isinstance(exc, FileNotFoundError):
        return f"cannot read {location!r} (missing or not a file)"
    if isinstance(exc, PermissionError):
        return f"cannot read {location!r}: access denied"
    text = " ".join(str(exc).split())[:160]
    return f"cannot read {location!r}: {name}: {text}"


def remote_file_problem(location: str, timeout: float = REMOTE_TIMEOUT_S) -> str | None:
    """None if ``location`` is a readable remote file, else the reason."""
    try:
        fs, path = url_to_fs(location, timeout)
        info = fs.info(path)
    except Exception as exc:  # noqa: BLE001 - every backend has its own exception types
        log.debug("cannot stat %s: %r", location, exc)
        return remote_problem(location, exc)
    if info.get("type") not in (None, "file"):
        return f"cannot read {location!r} (missing or not a file)"
    return None


def read_remote(location: str, max_bytes: int, timeout: float = REMOTE_TIMEOUT_S) -> bytes:
    """At most ``max_bytes`` of a remote file. Raises InputError past the limit or when the
    store refuses (no credentials, missing package); OSError for what may be transient."""
    from ..errors import InputError
    try:
        fs, path = url_to_fs(location, timeout)
        with fs.open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except (OSError, InputError):
        raise
    except Exception as exc:  # noqa: BLE001 - backend-specific exception types
        raise InputError(remote_problem(location, exc)) from None
    if len(data) > max_bytes:
        raise InputError(f"{location}: more than {max_bytes} bytes, over the limit",
                         hint="raise --max-file-bytes (LoadOptions.max_file_bytes) if the file is trusted")
    return data

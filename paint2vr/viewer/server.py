"""A small local web server for the WebXR viewer: the scene, the viewer page, three.js.

It serves a fixed list of files and nothing else: the scene (and the files a .gltf names),
the viewer's own page, and ``.js`` files under three.js's ``build/`` and ``examples/jsm/``
(plus the IWER emulator used in test mode). No directory listings, no path that leaves
those folders (encoded ``..``, double slashes, absolute paths and symlinks out are refused),
GET and HEAD only. It binds to the loopback interface unless told otherwise.
"""

from __future__ import annotations

import ipaddress
import hashlib
import json
import logging
import os
import ssl
import struct
import sys
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ..errors import InputError
from ..io.reading import parse_json_bounded

log = logging.getLogger(__name__)

WEB_ROOT = Path(__file__).resolve().parent / "web"
"""The viewer's own page (index.html, viewer.js, locomotion.js, loading.js, layout.js, style.css)."""
WEB_FILES = ("index.html", "viewer.js", "locomotion.js", "loading.js", "layout.js", "style.css")
BASIS_WASM = "examples/jsm/libs/basis/basis_transcoder.wasm"
"""three.js's Basis Universal transcoder (KTX2 textures); the only non-.js file served from three."""
SCENE_SUFFIXES = (".glb", ".gltf")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
HEADER_TIMEOUT_S = 10.0
"""Seconds a connection may stay silent (request line and headers, keep-alive idle) before it is closed."""
MAX_CONNECTIONS = 32
"""Connections served at once; more are closed at accept (half-open connections cannot pile up)."""
MAX_GLTF_JSON_DEPTH = 32
"""Deepest nesting of the scene's glTF JSON (checked before parsing)."""

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".bin": "application/octet-stream",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ktx2": "image/ktx2",
    ".wasm": "application/wasm",
}


@dataclass(frozen=True)
class ServeOptions:
    """Options of :func:`serve` (and the ``paint2vr view`` flags)."""

    host: str = "127.0.0.1"
    """Interface to listen on; 0.0.0.0 makes the scene reachable from other devices on the network."""
    port: int = 8000
    """TCP port (0 picks a free one)."""
    cert: str | None = None
    """PEM certificate file: serve over https (WebXR needs https except on localhost)."""
    key: str | None = None
    """PEM private key of --cert."""
    open_browser: bool = True
    """Open the page in the default web browser."""


DEFAULT_SERVE_OPTIONS = ServeOptions()


def default_node_modules() -> Path:
    """Where three.js is installed: $PAINT2VR_NODE_MODULES, else a source checkout's
    node_modules, else the user data folder ``paint2vr viewer install-assets`` fills."""
    env = os.environ.get("PAINT2VR_NODE_MODULES")
    if env:
        return Path(env)
    from .assets import user_node_modules
    checkout = Path(__file__).resolve().parents[2] / "node_modules"
    return checkout if (checkout / "three" / "package.json").is_file() else user_node_modules()


def is_loopback(host: str) -> bool:
    """True for 'localhost' and loopback IP addresses (exactly: '127.evil.com' is not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_literal(host: str) -> str:
    """An address as it appears in a Host header (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host else host


# -- which files exist to be served ---------------------------------------------------------

def _gltf_json(path: Path) -> dict[str, Any]:
    """The JSON part of a .gltf or .glb file."""
    data = path.read_bytes()
    try:
        if path.suffix.lower() == ".glb":
            magic, _version, _length = struct.unpack_from("<4sII", data, 0)
            chunk_len, chunk_type = struct.unpack_from("<I4s", data, 12)
            if magic != b"glTF" or chunk_type != b"JSON":
                raise ValueError("not a GLB (bad magic or first chunk)")
            data = data[20:20 + chunk_len]
        doc = parse_json_bounded(data, MAX_GLTF_JSON_DEPTH)
        if not isinstance(doc, dict):
            raise ValueError(f"the glTF JSON is a {type(doc).__name__}, not an object")
        for kind in ("buffers", "images"):
            items = doc.get(kind)
            if items is not None and not (isinstance(items, list) and all(
                    isinstance(i, dict) and isinstance(i.get("uri", ""), str) for i in items)):
                raise ValueError(f"'{kind}' must be a list of objects with string 'uri's")
        return doc
    except (ValueError, struct.error) as exc:
        raise InputError(f"{path}: cannot read the glTF JSON ({' '.join(str(exc).split())[:160]})",
                         hint="is it a .glb/.gltf written by paint2vr convert?") from None


def _safe_segments(rel: str) -> list[str] | None:
    """Split a relative URL path into segments, or None when any segment could escape."""
    if not rel or "\\" in rel or "\0" in rel or rel.startswith("/"):
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") or ":" in p for p in parts):
        return None
    return parts


def _inside(path: Path, root: Path) -> Path | None:
    """``path`` resolved (following symlinks), if it is a regular file inside ``root``."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real.is_relative_to(root) or not real.is_file():
        return None
    return real


def scene_routes(scene_path: Path) -> dict[str, Path]:
    """URL path -> file for the scene and every relative file its glTF JSON names."""
    folder = scene_path.parent.resolve()
    routes = {"/scene/" + scene_path.name: scene_path.resolve()}
    doc = _gltf_json(scene_path)
    for kind in ("buffers", "images"):
        for item in doc.get(kind, []) or []:
            uri = item.get("uri") if isinstance(item, dict) else None
            if not uri or uri.startswith("data:"):
                continue
            rel = unquote(uri)
            parts = _safe_segments(rel)
            real = _inside(folder.joinpath(*parts), folder) if parts else None
            if real is None:
                log.warning("%s: not serving %r (outside the scene folder or missing)", scene_path, uri)
                continue
            routes["/scene/" + "/".join(parts)] = real
    return routes


# -- the server ------------------------------------------------------------------------------

class ViewerServer(ThreadingHTTPServer):
    """The viewer's HTTP(S) server. :meth:`start` serves in a background thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], files: dict[str, Path | bytes],
                 prefixes: dict[str, Path], *, loopback_only: bool, https: bool) -> None:
        self.files = files
        self.prefixes = prefixes
        self.loopback_only = loopback_only
        self.https = https
        self._thread: threading.Thread | None = None
        self.header_timeout = HEADER_TIMEOUT_S
        self.max_connections = MAX_CONNECTIONS
        self._active = 0
        self._active_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._active_lock:
            if self._active >= self.max_connections:
                self.shutdown_request(request)  # over the cap: closed at once
                return
            self._active += 1
        try:
            super().process_request(request, client_address)
        except BaseException:
            with self._active_lock:
                self._active -= 1
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer (a closed tab, a reload) is routine: logged at
        debug level. Anything else is logged with its traceback; socketserver's default
        printed both to stderr."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log.debug("client %s went away: %s", client_address[0], exc)
        else:
            log.error("request from %s failed", client_address[0], exc_info=exc)

    def allowed_hosts(self) -> set[str]:
        """Host header values (name and port) a loopback server answers to."""
        names = {"localhost", "127.0.0.1", "[::1]", _host_literal(self.server_address[0])}
        return names | {f"{n}:{self.port}" for n in names}

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        host = self.server_address[0]
        host = "localhost" if host in ("127.0.0.1", "::1") else host
        if host in ("0.0.0.0", "::"):
            host = "localhost"
        return f"{'https' if self.https else 'http'}://{host}:{self.port}/"

    def start(self) -> "ViewerServer":
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.serve_forever, name="paint2vr-viewer", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def __enter__(self) -> "ViewerServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def lookup(self, url_path: str) -> Path | bytes | None:
        """The file (or bytes) behind a decoded URL path, or None (-> 404)."""
        if url_path in self.files:
            return self.files[url_path]
        for prefix, root in self.prefixes.items():
            if url_path.startswith(prefix):
                parts = _safe_segments(url_path[len(prefix):])
                if parts is None or Path(parts[-1]).suffix not in (".js", ".mjs"):
                    return None
                return _inside(root.joinpath(*parts), root)
        return None


class _Handler(BaseHTTPRequestHandler):
    server: ViewerServer
    server_version = "paint2vr-viewer"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    """Chromium's HTTP cache uses a stored response's ETag only when it came over HTTP/1.1
    (http.server's default, HTTP/1.0, made every fetch() of the scene a 200 again; module
    scripts were revalidated by Blink's own memory cache). Every response carries its
    Content-Length (or is a 304), so keep-alive connections stay in step."""

    def setup(self) -> None:
        self.timeout = self.server.header_timeout  # socket timeout: a silent client is dropped
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        log.debug("%s %s", self.address_string(), format % args)

    def __getattr__(self, name: str) -> Any:
        # Every method but GET and HEAD gets 405 (http.server would answer 501 to unknown ones).
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")  # its body, if any, is never read
        self.close_connection = True
        self.end_headers()

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _plain(self, status: HTTPStatus, body: bool) -> None:
        text = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if body:
            self.wfile.write(text)

    def _host_allowed(self) -> bool:
        # DNS-rebinding guard: a loopback server answers only to loopback host names.
        if not self.server.loopback_only:
            return True
        # Exact names only ('127.evil.com' is a DNS name, not a loopback address).
        host = (self.headers.get("Host") or "").strip().lower()
        return host in self.server.allowed_hosts()

    def _serve(self, body: bool) -> None:
        if not self._host_allowed():
            self._plain(HTTPStatus.FORBIDDEN, body)
            return
        if not self.path.startswith("/"):  # absolute-form or '*' targets
            self._plain(HTTPStatus.NOT_FOUND, body)
            return
        try:
            path = unquote(urlsplit(self.path).path, errors="strict")
        except (UnicodeDecodeError, ValueError):
            self._plain(HTTPStatus.NOT_FOUND, body)
            return
        if path == "/":
            path = "/index.html"
        target = self.server.lookup(path)
        if target is None:
            self._plain(HTTPStatus.NOT_FOUND, body)
            return
        if isinstance(target, bytes):
            data, suffix = target, Path(path).suffix
        else:
            try:
                data = target.read_bytes()
            except OSError:
                self._plain(HTTPStatus.NOT_FOUND, body)
                return
            suffix = target.suffix
        tag = etag(data)
        if _matches(self.headers.get("If-None-Match"), tag):
            # A reload revalidates: the browser keeps its copy, nothing is sent again.
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", tag)
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPES.get(suffix.lower(), "application/octet-stream"))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", tag)
        self.send_header("Cache-Control", "no-cache")  # may be stored, revalidated on every use
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.end_headers()
        if body:
            self.wfile.write(data)


def etag(data: bytes) -> str:
    """A strong validator of a response body (its SHA-256, shortened): the same bytes give the
    same tag across restarts, a re-exported scene a new one."""
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _matches(header: str | None, tag: str) -> bool:
    """Whether an If-None-Match header names ``tag`` (or ``*``); weak tags compare by value."""
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or tag in tags


def serve(scene_path: str | os.PathLike[str], host: str = DEFAULT_SERVE_OPTIONS.host,
          port: int = DEFAULT_SERVE_OPTIONS.port, *, cert: str | os.PathLike[str] | None = None,
          key: str | os.PathLike[str] | None = None, node_modules: str | os.PathLike[str] | None = None
          ) -> ViewerServer:
    """A viewer server for one scene, bound but not yet serving: call ``.start()`` (background
    thread) or ``.serve_forever()``, and ``.stop()`` when done. ``port=0`` picks a free port.

    Raises:
        InputError: the scene is missing or not .glb/.gltf, three.js is not installed, the
            port is taken, or the certificate cannot be loaded.
    """
    scene = Path(scene_path)
    if scene.suffix.lower() not in SCENE_SUFFIXES:
        raise InputError(f"{scene}: expected a .glb or .gltf scene, got {scene.suffix or 'no extension'!r}",
                         hint="convert a painting first: paint2vr convert painting.jpg -o scene.glb")
    if not scene.is_file():
        raise InputError(f"{scene}: no such scene file", hint="check the path")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise InputError(f"port must be an integer in [0, 65535], got {port!r}")
    if (cert is None) != (key is None):
        raise InputError("https needs both --cert and --key, got only one",
                         hint="see docs/viewer.md for making a certificate")
    modules = Path(node_modules) if node_modules is not None else default_node_modules()
    three = modules / "three"
    if not (three / "build" / "three.module.js").is_file():
        raise InputError(f"three.js is not installed in {modules}",
                         hint="run 'paint2vr viewer install-assets', or set PAINT2VR_NODE_MODULES")

    files: dict[str, Path | bytes] = {f"/{name}": WEB_ROOT / name for name in WEB_FILES}
    files.update(scene_routes(scene))
    config = {"scene": "/scene/" + quote(scene.name), "name": scene.stem,
              "emulator": (modules / "iwer" / "build" / "iwer.module.js").is_file()}
    files["/config.json"] = json.dumps(config).encode()
    if (three / BASIS_WASM).is_file():
        files["/vendor/three/" + BASIS_WASM] = (three / BASIS_WASM).resolve()
    prefixes = {
        "/vendor/three/build/": (three / "build").resolve(),
        "/vendor/three/examples/jsm/": (three / "examples" / "jsm").resolve(),
    }
    if config["emulator"]:
        prefixes["/vendor/iwer/build/"] = (modules / "iwer" / "build").resolve()

    try:
        server = ViewerServer((host, port), files, prefixes, loopback_only=is_loopback(host),
                              https=cert is not None)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                         hint="pick another --port (or 0 for any free port)") from exc
    if cert is not None:
        try:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.fspath(cert), os.fspath(key))  # type: ignore[arg-type]
        except (OSError, ssl.SSLError) as exc:
            server.server_close()
            raise InputError(f"cannot load the certificate {cert} / key {key}: {exc}",
                             hint="both must be PEM files; see docs/viewer.md") from exc
        # handshake in the connection's thread (with its timeout), not in the accept loop
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    log.info("serving %s at %s", scene, server.url)
    return server


__all__ = ["DEFAULT_SERVE_OPTIONS", "ServeOptions", "ViewerServer", "default_node_modules",
           "scene_routes", "serve"]

"""The studio's local web server: the editor page, its JSON API, three.js.

Built on the viewer's server (:mod:`paint2vr.viewer.server`): the same loopback binding,
Host check against DNS rebinding, fixed routes and no listings. Writes (``PUT /api/edits``,
``POST /api/preview``) also need the per-launch token the page carries in
``<meta name="paint2vr-token">``, sent back as ``X-Paint2vr-Token``, and an Origin (when the
browser sends one) equal to the server's own: another page open in the same browser cannot
write through it. No request names a file: the edits file of each item is fixed at launch.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from ..edit.document import MAX_EDITS_BYTES, EditsError
from ..errors import InputError, Paint2VRError
from ..pipeline import DEFAULT_CONVERT_OPTIONS, ConvertOptions
from ..viewer.server import ViewerServer, _Handler, default_node_modules, is_loopback
from .queue import QueueItem
from .session import StudioSession

log = logging.getLogger("paint2vr.studio")

WEB_ROOT = Path(__file__).resolve().parent / "web"
"""The studio's own page."""
WEB_FILES = ("studio.html", "studio.js", "studio.css", "queue.html", "queue.js")
TOKEN_HEADER = "X-Paint2vr-Token"
OPEN_SESSIONS = 4
"""Paintings kept open at once in review-queue mode (each holds its depth and scene)."""


@dataclass(frozen=True)
class StudioOptions:
    """Options of :func:`studio_server` (and the ``paint2vr studio`` flags)."""

    host: str = "127.0.0.1"
    """Interface to listen on (loopback by default: the studio writes files)."""
    port: int = 8010
    """TCP port (0 picks a free one)."""
    open_browser: bool = True
    """Open the page in the default web browser."""


DEFAULT_STUDIO_OPTIONS = StudioOptions()


class Workspace:
    """The items the studio edits (one painting, or a batch's review queue) and their sessions."""

    def __init__(self, items: list[QueueItem], options: ConvertOptions, queue_mode: bool) -> None:
        self.items = {item.id: item for item in items}
        self.order = [item.id for item in items]
        self.options = options
        self.queue_mode = queue_mode
        self._sessions: OrderedDict[str, StudioSession] = OrderedDict()
        self._lock = threading.Lock()

    def session(self, item_id: str | None) -> StudioSession:
        """The open session of ``item_id`` (the only item when None), opened on first use."""
        item_id = item_id if item_id is not None else self.order[0]
        if item_id not in self.items:
            raise InputError(f"no item {item_id[:80]!r} in this studio")
        with self._lock:
            if item_id in self._sessions:
                self._sessions.move_to_end(item_id)
                return self._sessions[item_id]
        item = self.items[item_id]
        opened = StudioSession(item.painting, item.edits, self.options)
        with self._lock:
            self._sessions[item_id] = opened
            while len(self._sessions) > OPEN_SESSIONS:
                self._sessions.popitem(last=False)
        return opened


class StudioServer(ViewerServer):
    """The viewer's server with the studio's API and a per-launch write token."""

    def __init__(self, address: tuple[str, int], files: dict[str, Path | bytes], prefixes: dict[str, Path],
                 workspace: Workspace, *, loopback_only: bool) -> None:
        self.workspace = workspace
        self.token = secrets.token_urlsafe(24)
        super().__init__(address, files, prefixes, loopback_only=loopback_only, https=False)
        self.RequestHandlerClass = _StudioHandler


def _json(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


class _StudioHandler(_Handler):
    server: StudioServer
    server_version = "paint2vr-studio"

    def _send(self, status: HTTPStatus, data: bytes, content_type: str, body: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._send(status, _json({"error": message}), "application/json")

    def _route(self) -> tuple[str, str | None]:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, max_num_fields=8)
        item = query.get("item", [None])[0]
        return parts.path, item

    # -- reads ------------------------------------------------------------------------------
    def do_GET(self) -> None:
        path, item = self._route() if self.path.startswith("/") else ("", None)
        if not path.startswith("/api/") and path != "/" and path != "/edit":
            self._serve(body=True)
            return
        if not self._host_allowed():
            self._plain(HTTPStatus.FORBIDDEN, True)
            return
        handlers: dict[str, Callable[[str | None], tuple[bytes, str]]] = {
            "/": self._page, "/edit": self._editor_page, "/api/state": self._state, "/api/edits": self._edits,
            "/api/painting.png": lambda i: (self.server.workspace.session(i).painting_png(), "image/png"),
            "/api/depth.png": lambda i: (self.server.workspace.session(i).depth_png(), "image/png"),
            "/api/sky.png": lambda i: (self.server.workspace.session(i).sky_png(), "image/png"),
            "/api/layers.png": lambda i: (self.server.workspace.session(i).layers_png(), "image/png"),
            "/api/scene.glb": lambda i: (self.server.workspace.session(i).scene_glb(), "model/gltf-binary"),
            "/api/queue": self._queue, "/api/thumb.png": self._thumb,
        }
        handler = handlers.get(path)
        if handler is None:
            self._plain(HTTPStatus.NOT_FOUND, True)
            return
        try:
            data, ctype = handler(item)
        except Paint2VRError as exc:
            self._error(HTTPStatus.NOT_FOUND if "no item" in exc.message else HTTPStatus.UNPROCESSABLE_ENTITY,
                        str(exc))
            return
        self._send(HTTPStatus.OK, data, ctype)

    def _page_with_token(self, name: str) -> tuple[bytes, str]:
        html = (WEB_ROOT / name).read_text(encoding="utf-8")
        meta = f'<meta name="paint2vr-token" content="{self.server.token}">'
        return html.replace("<!-- paint2vr-token -->", meta).encode(), "text/html; charset=utf-8"

    def _page(self, item: str | None) -> tuple[bytes, str]:
        return self._page_with_token("queue.html" if self.server.workspace.queue_mode else "studio.html")

    def _editor_page(self, item: str | None) -> tuple[bytes, str]:
        return self._page_with_token("studio.html")

    def _state(self, item: str | None) -> tuple[bytes, str]:
        session = self.server.workspace.session(item)
        state = session.state()
        state["queue"] = self.server.workspace.queue_mode
        return _json(state), "application/json"

    def _edits(self, item: str | None) -> tuple[bytes, str]:
        from ..edit import dumps_edits
        return dumps_edits(self.server.workspace.session(item).edits).encode(), "application/json"

    def _queue(self, item: str | None) -> tuple[bytes, str]:
        ws = self.server.workspace
        return _json([ws.items[i].to_dict() for i in ws.order]), "application/json"

    def _thumb(self, item: str | None) -> tuple[bytes, str]:
        ws = self.server.workspace
        if item not in ws.items:
            raise InputError(f"no item {str(item)[:80]!r} in this studio")
        return ws.items[item].thumbnail(), "image/png"

    # -- writes -----------------------------------------------------------------------------
    def _write_allowed(self) -> str | None:
        """Why this write is refused, or None when it carries the token from our own page."""
        if not self._host_allowed():
            return "host not allowed"
        host = self.headers.get("Host", "")
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{host}":
            return "foreign origin"
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return "cross-site request"
        token = self.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.server.token.encode()):
            return "missing or wrong token"
        return None

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return None
        if not 0 <= length <= MAX_EDITS_BYTES:
            return None
        return self.rfile.read(length)

    def _write(self, save: bool) -> None:
        refused = self._write_allowed()
        if refused is not None:
            log.warning("refused a write from %s: %s", self.address_string(), refused)
            self._error(HTTPStatus.FORBIDDEN, refused)
            return
        path, item = self._route()
        if path != ("/api/edits" if save else "/api/preview"):
            self._plain(HTTPStatus.NOT_FOUND, True)
            return
        body = self._body()
        if body is None:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"a body of at most {MAX_EDITS_BYTES} bytes is expected")
            return
        try:
            session = self.server.workspace.session(item)
            edits = session.parse(body)
            result = session.preview(edits)
            if save:
                result["sha256"] = session.save(edits)
                ws = self.server.workspace
                queue_item = ws.items.get(item or ws.order[0])
                result["needs_rerun"] = bool(ws.queue_mode and queue_item and queue_item.needs_rerun())
        except EditsError as exc:
            self._error(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))
            return
        except Paint2VRError as exc:
            self._error(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))
            return
        self._send(HTTPStatus.OK, _json(result), "application/json")

    def do_PUT(self) -> None:
        self._write(save=True)

    def do_POST(self) -> None:
        self._write(save=False)

    def _not_allowed(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD, PUT, POST")
        self.send_header("Content-Length", "0")
        self.end_headers()


def studio_server(items: list[QueueItem], *, queue_mode: bool = False,
                  options: ConvertOptions = DEFAULT_CONVERT_OPTIONS, host: str = DEFAULT_STUDIO_OPTIONS.host,
                  port: int = DEFAULT_STUDIO_OPTIONS.port, node_modules: str | None = None) -> StudioServer:
    """A studio server for ``items``, bound but not serving yet (``.start()`` / ``.serve_forever()``).

    Raises:
        InputError: no items, three.js is missing, or the port is taken.
    """
    if not items:
        raise InputError("nothing to edit: no paintings", hint="give a painting or a batch output folder")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise InputError(f"port must be an integer in [0, 65535], got {port!r}")
    modules = Path(node_modules) if node_modules is not None else default_node_modules()
    three = modules / "three"
    if not (three / "build" / "three.module.js").is_file():
        raise InputError(f"three.js is not installed in {modules}",
                         hint="run scripts/setup.sh (npm ci), or set PAINT2VR_NODE_MODULES")
    files: dict[str, Path | bytes] = {f"/{name}": WEB_ROOT / name for name in WEB_FILES}
    prefixes = {"/vendor/three/build/": (three / "build").resolve(),
                "/vendor/three/examples/jsm/": (three / "examples" / "jsm").resolve()}
    workspace = Workspace(items, options, queue_mode)
    if not queue_mode:
        workspace.session(None)  # estimate depth before the page asks for it
    try:
        server = StudioServer((host, port), files, prefixes, workspace, loopback_only=is_loopback(host))
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                         hint="pick another --port (or 0 for any free port)") from exc
    log.info("studio at %s", server.url)
    return server


__all__ = ["DEFAULT_STUDIO_OPTIONS", "StudioOptions", "StudioServer", "TOKEN_HEADER", "studio_server"]

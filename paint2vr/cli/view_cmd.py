"""paint2vr view scene.glb: serve a scene to a browser or a WebXR headset."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..viewer.server import DEFAULT_SERVE_OPTIONS, is_loopback


def register(sub: argparse._SubParsersAction) -> None:
    d = DEFAULT_SERVE_OPTIONS
    p = sub.add_parser("view", help="view a scene in the browser or a VR headset (WebXR)",
                       description="Serve a scene and the three.js viewer on a local web server. "
                                   "WebXR needs https or localhost: on a Quest use 'adb reverse "
                                   "tcp:PORT tcp:PORT' or --cert/--key (see docs/viewer.md).")
    p.add_argument("scene", help="the .glb (or .gltf) scene to view")
    p.add_argument("--port", type=int, default=d.port, help=f"TCP port, 0 for any free one (default: {d.port})")
    p.add_argument("--host", default=d.host,
                   help=f"interface to listen on; 0.0.0.0 to reach a headset on this network (default: {d.host})")
    p.add_argument("--no-browser", dest="open_browser", action="store_false", default=d.open_browser,
                   help="do not open a web browser")
    p.add_argument("--cert", default=d.cert, help="PEM certificate: serve over https")
    p.add_argument("--key", default=d.key, help="PEM private key of --cert")
    p.set_defaults(run=run)


def lan_warning(host: str) -> str:
    """The warning printed when the server is reachable from other machines ('' on loopback)."""
    if is_loopback(host):
        return ""
    return (f"warning: listening on {host}: anyone on this network can load the scene while "
            "the viewer runs. Use it only on a network you trust.")


def run(args: argparse.Namespace) -> int:
    from ..viewer import serve
    server = serve(args.scene, args.host, args.port, cert=args.cert, key=args.key)
    warning = lan_warning(args.host)
    if warning:
        print(f"paint2vr: {warning}", file=sys.stderr)
    return serve_until_stopped(server, f"Viewing {args.scene}", args.open_browser)


def serve_until_stopped(server: Any, what: str, open_browser: bool) -> int:
    """Print where ``server`` is, open a browser if asked, serve until Ctrl+C (view, studio)."""
    print(f"{what} at {server.url}  (Ctrl+C to stop)", flush=True)
    if open_browser:
        import webbrowser
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0

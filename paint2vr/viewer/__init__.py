"""The WebXR viewer: a local web server and a three.js page for one scene."""

from .server import DEFAULT_SERVE_OPTIONS, ServeOptions, ViewerServer, serve

__all__ = ["DEFAULT_SERVE_OPTIONS", "ServeOptions", "ViewerServer", "serve"]

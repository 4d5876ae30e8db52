"""The viewer server against hostile clients and files (issue 19, items 14-16): DNS-rebinding
Host names, half-open connections, and hostile GLBs refused at start with one line."""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from pathlib import Path

import pytest

from paint2vr.errors import InputError
from paint2vr.export import save_scene
from paint2vr.viewer import serve
from paint2vr.viewer.server import is_loopback

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_viewer_server import request  # noqa: E402
from viewer_scenes import painting_scene  # noqa: E402


@pytest.fixture(scope="module")
def glb(tmp_path_factory) -> Path:
    return save_scene(painting_scene(), tmp_path_factory.mktemp("scene") / "s.glb")


@pytest.fixture
def server(glb):
    srv = serve(glb, "127.0.0.1", 0).start()
    yield srv
    srv.stop()


def test_host_check_is_exact(server):
    p = server.port
    for host in ("127.evil.com", "127.0.0.1.evil.com", f"127.0.0.1.evil.com:{p}", "localhost.evil.com",
                 f"127.evil.com:{p}", "127.0.0.1:1", f"localhost:{p}0", "", "[::1].evil.com"):
        assert request(server, "GET", "/", {"Host": host})[0] == 403, host
    for host in (f"127.0.0.1:{p}", f"localhost:{p}", f"[::1]:{p}", "localhost", "127.0.0.1"):
        assert request(server, "GET", "/", {"Host": host})[0] == 200, host
    assert not is_loopback("127.evil.com") and is_loopback("127.0.0.2") and is_loopback("::1")


def test_half_open_connections_time_out_and_are_capped(server):
    server.header_timeout = 1.0
    server.max_connections = 8
    held = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished
        held.append(s)
    closed: set[int] = set()
    deadline = time.time() + 15
    while len(closed) < len(held) and time.time() < deadline:
        for i, s in enumerate(held):
            if i in closed:
                continue
            s.settimeout(0.05)
            try:
                if s.recv(4096) == b"":
                    closed.add(i)
            except socket.timeout:
                pass
            except OSError:
                closed.add(i)
    for s in held:
        s.close()
    assert len(closed) == len(held), f"{len(held) - len(closed)} connections still open"
    server.header_timeout = 10.0
    assert request(server, "GET", "/")[0] == 200  # and it still serves


def _glb_with_json(path: Path, doc_bytes: bytes) -> Path:
    doc_bytes += b" " * (-len(doc_bytes) % 4)
    path.write_bytes(b"glTF" + struct.pack("<II", 2, 12 + 8 + len(doc_bytes))
                     + struct.pack("<I4s", len(doc_bytes), b"JSON") + doc_bytes)
    return path


@pytest.mark.parametrize("doc", [
    b'{"asset": ' * 100_000 + b'{}' + b"}" * 100_000,
    b"[" * 200_000 + b"]" * 200_000,
    b'[1, 2, 3]',
    b'{"asset": {"version": "2.0"}, "images": 5}',
    b'{"asset": {"version": "2.0"}, "buffers": {"uri": "x.bin"}}',
    b'{"asset": {"version": "2.0"}, "images": [{"uri": 7}]}',
    b'{"asset": {"version": "2.0"}, "buffers": ["x.bin"]}',
])
def test_hostile_glb_refused_at_start_with_one_line(tmp_path, doc, capsys):
    glb = _glb_with_json(tmp_path / "hostile.glb", doc)
    with pytest.raises(InputError, match="cannot read the glTF JSON"):
        serve(glb, "127.0.0.1", 0)
    from paint2vr.cli.main import main
    code = main(["view", str(glb), "--port", "0", "--no-browser"])
    err = capsys.readouterr().err
    assert code == InputError.exit_code and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    gltf = tmp_path / "hostile.gltf"
    gltf.write_bytes(doc)
    with pytest.raises(InputError):
        serve(gltf, "127.0.0.1", 0)

"""The viewer's web server: what it serves, what it refuses, https, and the CLI."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from paint2vr.errors import InputError
from paint2vr.export import save_scene
from paint2vr.viewer import serve
from paint2vr.viewer.server import WEB_ROOT, default_node_modules, scene_routes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from viewer_scenes import painting_scene  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def glb(tmp_path_factory) -> Path:
    return save_scene(painting_scene(), tmp_path_factory.mktemp("scene") / "my scene.glb")


@pytest.fixture(scope="module")
def server(glb):
    srv = serve(glb, "127.0.0.1", 0).start()
    yield srv
    srv.stop()


def request(srv, method: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in ({"Host": f"127.0.0.1:{srv.port}"} | (headers or {})).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_serves_page_config_scene_and_three(server, glb):
    status, headers, body = request(server, "GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'"three": "/vendor/three/build/three.module.js"' in body
    assert body == (WEB_ROOT / "index.html").read_bytes()
    status, headers, body = request(server, "GET", "/viewer.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert headers["x-content-type-options"] == "nosniff"
    config = json.loads(request(server, "GET", "/config.json")[2])
    assert config == {"scene": "/scene/my%20scene.glb", "name": "my scene", "emulator": True}
    status, headers, body = request(server, "GET", config["scene"])
    assert status == 200 and headers["content-type"] == "model/gltf-binary"
    assert body == glb.read_bytes()
    three = default_node_modules() / "three"
    for url, file in [("/vendor/three/build/three.module.js", three / "build" / "three.module.js"),
                      ("/vendor/three/examples/jsm/webxr/VRButton.js",
                       three / "examples" / "jsm" / "webxr" / "VRButton.js")]:
        status, _, body = request(server, "GET", url)
        assert status == 200 and body == file.read_bytes()


def test_head_has_length_and_no_body(server, glb):
    status, headers, body = request(server, "HEAD", "/scene/my%20scene.glb")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == glb.stat().st_size


@pytest.mark.parametrize("path", [
    "/vendor/three/package.json",                       # three's folder but not build/ or jsm/
    "/vendor/three/build/../package.json",
    "/vendor/three/build/%2e%2e/package.json",
    "/vendor/three/build/%2E%2E%2Fpackage.json",
    "/vendor/three/build/..%2fpackage.json",
    "/vendor/three/examples/jsm/../../package.json",
    "/vendor/three/build//three.module.js",
    "//etc/passwd",
    "/etc/passwd",
    "/%2Fetc%2Fpasswd",
    "/vendor/three/build/%2Fetc%2Fpasswd",
    "/vendor/three/build/..\\package.json",
    "/vendor/three/build/three.module.js%00.js",
    "/vendor/three/build/%ff.js",
    "http://127.0.0.1/etc/passwd",                      # absolute-form target
    "/scene/../viewer.js",
    "/scene/%2e%2e/%2e%2e/etc/passwd",
    "/web/index.html",
    "/server.py",
    "/../server.py",
    "/vendor/three/build/",                              # no directory listings
    "/vendor/three/examples/jsm/",
    "/scene/",
    "/vendor/",
    "/vendor/three/LICENSE",
    "/vendor/three/build/three.module.js/",
])
def test_refuses_paths_outside_the_list(server, path):
    status, _, body = request(server, "GET", path)
    assert status == 404, (path, body[:200])


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO"])
def test_only_get_and_head(server, method):
    status, headers, _ = request(server, method, "/")
    assert status == 405 and headers["allow"] == "GET, HEAD"


def test_loopback_server_refuses_foreign_host_names(server):
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not read the scene.
    assert request(server, "GET", "/", {"Host": "evil.example"})[0] == 403
    assert request(server, "GET", "/", {"Host": f"localhost:{server.port}"})[0] == 200
    assert request(server, "GET", "/", {"Host": f"[::1]:{server.port}"})[0] == 200


def test_symlinks_out_of_three_are_refused(tmp_path, glb):
    nm = tmp_path / "nm"
    build = nm / "three" / "build"
    build.mkdir(parents=True)
    (nm / "three" / "examples" / "jsm").mkdir(parents=True)
    (build / "three.module.js").write_text("export {};")
    secret = tmp_path / "secret.js"
    secret.write_text("secret")
    (build / "evil.js").symlink_to(secret)
    (build / "ok.js").symlink_to(build / "three.module.js")  # a link inside stays servable
    with serve(glb, "127.0.0.1", 0, node_modules=nm) as srv:
        assert request(srv, "GET", "/vendor/three/build/evil.js")[0] == 404
        assert request(srv, "GET", "/vendor/three/build/ok.js")[:3:2] == (200, b"export {};")
        assert request(srv, "GET", "/vendor/iwer/build/iwer.module.js")[0] == 404  # no emulator there
        assert json.loads(request(srv, "GET", "/config.json")[2])["emulator"] is False


def test_gltf_serves_only_its_own_resources(tmp_path):
    folder = tmp_path / "scene"
    folder.mkdir()
    (folder / "scene.bin").write_bytes(b"\0" * 8)
    (folder / "tex 1.png").write_bytes(b"png")
    (folder / "unlisted.bin").write_bytes(b"x")
    (tmp_path / "secret.bin").write_bytes(b"secret")
    (folder / "link.bin").symlink_to(tmp_path / "secret.bin")
    doc = {"asset": {"version": "2.0"},
           "buffers": [{"uri": "scene.bin", "byteLength": 8}, {"uri": "../secret.bin", "byteLength": 6},
                       {"uri": "link.bin", "byteLength": 6}, {"uri": "/etc/passwd", "byteLength": 1},
                       {"uri": "data:application/octet-stream;base64,AAAA", "byteLength": 3}],
           "images": [{"uri": "tex%201.png"}, {"uri": "http://example.com/x.png"}]}
    gltf = folder / "scene.gltf"
    gltf.write_text(json.dumps(doc))
    assert sorted(scene_routes(gltf)) == ["/scene/scene.bin", "/scene/scene.gltf", "/scene/tex 1.png"]
    with serve(gltf, "127.0.0.1", 0) as srv:
        assert request(srv, "GET", "/scene/scene.bin")[0] == 200
        assert request(srv, "GET", "/scene/tex%201.png")[2] == b"png"
        for path in ("/scene/unlisted.bin", "/scene/link.bin", "/scene/../secret.bin", "/scene/%2e%2e/secret.bin"):
            assert request(srv, "GET", path)[0] == 404, path


def test_bad_inputs(tmp_path, glb):
    with pytest.raises(InputError, match="no such scene"):
        serve(tmp_path / "missing.glb", "127.0.0.1", 0)
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(InputError, match="expected a .glb or .gltf"):
        serve(tmp_path / "x.png", "127.0.0.1", 0)
    with pytest.raises(InputError, match="port must be"):
        serve(glb, "127.0.0.1", 70000)
    with pytest.raises(InputError, match="both --cert and --key"):
        serve(glb, "127.0.0.1", 0, cert=tmp_path / "c.pem")
    with pytest.raises(InputError, match="three.js is not installed"):
        serve(glb, "127.0.0.1", 0, node_modules=tmp_path)
    bad = tmp_path / "bad.glb"
    bad.write_bytes(b"not a glb at all")
    with pytest.raises(InputError, match="cannot read the glTF JSON"):
        serve(bad, "127.0.0.1", 0)
    with serve(glb, "127.0.0.1", 0) as first:
        with pytest.raises(InputError, match="cannot listen"):
            serve(glb, "127.0.0.1", first.port)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a test certificate")
def test_https_with_cert_and_key(tmp_path, glb):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    with pytest.raises(InputError, match="cannot load the certificate"):
        serve(glb, "127.0.0.1", 0, cert=key, key=key)
    with serve(glb, "127.0.0.1", 0, cert=cert, key=key) as srv:
        assert srv.url.startswith("https://localhost:")
        ctx = ssl.create_default_context(cafile=str(cert))
        conn = http.client.HTTPSConnection("localhost", srv.port, context=ctx, timeout=10)
        conn.request("GET", "/config.json")
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["scene"].endswith(".glb")
        conn.close()


def test_cli_view_prints_url_and_serves(glb):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "paint2vr.cli.main", "view", str(glb), "--port", "0",
                             "--no-browser"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "http://localhost:" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
        url = line[line.index("http://"):].split()[0]
        port = int(url.rsplit(":", 1)[1].strip("/"))
        conn = http.client.HTTPConnection("localhost", port, timeout=10)
        conn.request("GET", "/config.json")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cli_view_flags_errors_and_lan_warning(glb, tmp_path):
    import argparse

    from paint2vr.cli import view_cmd
    parser = argparse.ArgumentParser()
    view_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["view", str(glb), "--port", "0", "--host", "0.0.0.0", "--no-browser",
                              "--cert", "c.pem", "--key", "k.pem"])
    assert (args.port, args.host, args.open_browser, args.cert, args.key) == (0, "0.0.0.0", False, "c.pem", "k.pem")
    defaults = parser.parse_args(["view", str(glb)])
    assert (defaults.port, defaults.host, defaults.open_browser, defaults.cert) == (8000, "127.0.0.1", True, None)
    with pytest.raises(InputError, match="no such scene file"):
        defaults.run(parser.parse_args(["view", str(tmp_path / "missing.glb"), "--no-browser"]))
    assert "0.0.0.0" in view_cmd.lan_warning("0.0.0.0") and view_cmd.lan_warning("127.0.0.1") == ""


def test_etag_and_304_so_a_reload_downloads_nothing(server, glb):
    status, headers, body = request(server, "GET", "/scene/" + quote(glb.name))
    assert status == 200 and body == glb.read_bytes()
    tag = headers["etag"]
    assert tag.startswith('"') and headers["cache-control"] == "no-cache"
    status, headers2, body2 = request(server, "GET", "/scene/" + quote(glb.name), {"If-None-Match": tag})
    assert (status, body2, headers2["etag"]) == (304, b"", tag)
    assert request(server, "GET", "/scene/" + quote(glb.name), {"If-None-Match": 'W/"x", ' + tag})[0] == 304
    assert request(server, "GET", "/scene/" + quote(glb.name), {"If-None-Match": '"other"'})[0] == 200
    assert request(server, "GET", "/viewer.js", {"If-None-Match": tag})[0] == 200  # tags are per content


def test_serves_the_basis_transcoder_and_the_loading_module(server):
    status, headers, body = request(server, "GET", "/vendor/three/examples/jsm/libs/basis/basis_transcoder.wasm")
    assert status == 200 and headers["content-type"] == "application/wasm" and body[:4] == b"\0asm"
    assert request(server, "GET", "/vendor/three/examples/jsm/libs/basis/basis_transcoder.js")[0] == 200
    assert request(server, "GET", "/vendor/three/examples/jsm/libs/meshopt_decoder.module.js")[0] == 200
    assert request(server, "GET", "/loading.js")[0] == 200


def test_http_1_1_keep_alive_serves_several_requests_on_one_connection(server, glb):
    # HTTP/1.1 so that Chromium's HTTP cache uses the ETag (it ignores it on HTTP/1.0
    # responses, and fetch() of the scene was a 200 on every reload); every answer is framed
    # by its Content-Length, a 304 by having no body, so one connection carries them all.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/scene/" + quote(glb.name))
        first = conn.getresponse()
        body, tag = first.read(), first.getheader("etag")
        assert first.version == 11 and body == glb.read_bytes()
        conn.request("GET", "/scene/" + quote(glb.name), headers={"If-None-Match": tag})
        second = conn.getresponse()
        assert (second.status, second.read()) == (304, b"")
        conn.request("HEAD", "/viewer.js")
        third = conn.getresponse()
        assert third.status == 200 and third.read() == b"" and int(third.getheader("content-length")) > 0
        conn.request("GET", "/nothing-here")
        assert conn.getresponse().status == 404
    finally:
        conn.close()


def test_a_client_that_goes_away_is_logged_not_printed(server, capfd, caplog):
    """A closed tab mid-answer raised BrokenPipeError, and socketserver printed its traceback
    into the terminal (seen in the suite's output); now it is a debug line, and any other
    failure an error record with its traceback, never text on stderr."""
    import logging
    caplog.set_level(logging.DEBUG, logger="paint2vr.viewer.server")
    for exc in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset"), ValueError("bug")):
        try:
            raise exc
        except Exception:
            server.handle_error(None, ("127.0.0.1", 5))
    assert capfd.readouterr().err == ""
    levels = [(r.levelname, r.exc_info is not None) for r in caplog.records]
    assert levels == [("DEBUG", False), ("DEBUG", False), ("ERROR", True)]

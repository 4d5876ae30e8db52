"""The studio's JSON API: reads, token-guarded writes, forged writes refused, nothing chooses a path."""

import http.client
import json
from pathlib import Path

import pytest

from paint2vr.edit import read_edits
from paint2vr.errors import InputError
from paint2vr.studio import single_item, studio_server
from paint2vr.studio.server import TOKEN_HEADER

GOOD = {"paint2vr_edits": 1, "horizon": 0.45,
        "regions": [{"polygon": [[0.1, 0.6], [0.3, 0.6], [0.3, 0.9], [0.1, 0.9]], "depth": 2.0}]}


@pytest.fixture(scope="module")
def studio(tmp_path_factory, sample_rgb_small):
    from PIL import Image
    folder = tmp_path_factory.mktemp("studio")
    painting = folder / "sample.png"
    Image.fromarray(sample_rgb_small).save(painting)
    out = folder / "edits"
    out.mkdir()
    srv = studio_server([single_item(painting, out)], port=0).start()
    yield srv, out / "sample.edits.json"
    srv.stop()


def request(srv, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    h = {"Host": f"127.0.0.1:{srv.port}", **(headers or {})}
    conn.request(method, path, body=data, headers=h)
    res = conn.getresponse()
    out = res.status, res.read(), dict(res.getheaders())
    conn.close()
    return out


def test_page_carries_the_token(studio):
    srv, _ = studio
    status, body, headers = request(srv, "GET", "/")
    assert status == 200 and f'<meta name="paint2vr-token" content="{srv.token}">' in body.decode()
    assert headers["Cache-Control"] == "no-store"


def test_state_and_images(studio):
    srv, _ = studio
    status, body, _ = request(srv, "GET", "/api/state")
    state = json.loads(body)
    assert status == 200 and state["width"] == 480 and 0 <= state["horizon_estimate"] <= 1
    assert {e["name"] for e in state["effects"]} >= {"snow", "birds"}
    for name in ("painting", "depth", "sky", "layers"):
        status, body, headers = request(srv, "GET", f"/api/{name}.png")
        assert status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n" and headers["Content-Type"] == "image/png"
    status, body, _ = request(srv, "GET", "/api/scene.glb")
    assert status == 200 and body[:4] == b"glTF"


def test_put_with_the_token_saves_atomically(studio):
    srv, path = studio
    status, body, _ = request(srv, "PUT", "/api/edits", GOOD, {TOKEN_HEADER: srv.token,
                                                              "Origin": f"http://127.0.0.1:{srv.port}"})
    assert status == 200, body
    assert read_edits(path).horizon == 0.45
    assert json.loads(body)["sha256"] == __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    status, body, _ = request(srv, "GET", "/api/edits")
    assert json.loads(body)["horizon"] == 0.45


@pytest.mark.parametrize("headers, why", [
    ({}, "missing or wrong token"),
    ({TOKEN_HEADER: "forged"}, "missing or wrong token"),
    ({"Origin": "http://evil.example"}, "foreign origin"),
    ({"Origin": "null"}, "foreign origin"),
    ({"Sec-Fetch-Site": "cross-site"}, "cross-site"),
])
def test_forged_writes_are_refused(studio, headers, why):
    srv, path = studio
    before = path.read_bytes() if path.exists() else None
    h = dict(headers)
    if "Origin" in h or "Sec-Fetch-Site" in h:
        h[TOKEN_HEADER] = srv.token  # even with the token, another origin cannot write
    for method, route in (("PUT", "/api/edits"), ("POST", "/api/preview")):
        status, body, _ = request(srv, method, route, {**GOOD, "horizon": 0.1}, h)
        assert status == 403 and why in json.loads(body)["error"]
    assert (path.read_bytes() if path.exists() else None) == before


def test_rebinding_host_is_refused(studio):
    srv, _ = studio
    status, _, _ = request(srv, "PUT", "/api/edits", GOOD, {"Host": "evil.example", TOKEN_HEADER: srv.token})
    assert status == 403


def test_malformed_edits_name_the_key(studio):
    srv, path = studio
    before = path.read_bytes() if path.exists() else None
    status, body, _ = request(srv, "PUT", "/api/edits", {**GOOD, "pins": [{"x": 2, "y": 0, "depth": 1}]},
                              {TOKEN_HEADER: srv.token})
    assert status == 422 and "pins[0].x" in json.loads(body)["error"]
    import socket
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:  # a huge body is not read
        sock.sendall(f"PUT /api/edits HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n{TOKEN_HEADER}: {srv.token}\r\n"
                     f"Content-Length: {5 * 2**20}\r\n\r\n".encode())
        assert sock.recv(100).split(b" ")[1] == b"413"  # HTTP/1.1 since the viewer server speaks it
    assert (path.read_bytes() if path.exists() else None) == before


def test_no_request_chooses_a_file(studio):
    srv, path = studio
    status, _, _ = request(srv, "PUT", "/api/edits?item=../../etc/passwd", GOOD, {TOKEN_HEADER: srv.token})
    assert status == 422 or status == 404
    status, _, _ = request(srv, "PUT", "/elsewhere.json", GOOD, {TOKEN_HEADER: srv.token})
    assert status == 404
    status, _, _ = request(srv, "DELETE", "/api/edits")
    assert status == 405
    assert not Path("/etc/passwd.edits.json").exists()


def test_bad_targets_are_refused(tmp_path):
    with pytest.raises(InputError, match="no such painting"):
        single_item(tmp_path / "missing.png")
    with pytest.raises(InputError, match="nothing to edit"):
        studio_server([], port=0)

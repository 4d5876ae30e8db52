"""The edits file: parsed once into frozen dataclasses, one-line errors naming the key."""

import json

import pytest

from paint2vr.edit import EditsError, dumps_edits, edits_to_dict, loads_edits, parse_edits, read_edits
from paint2vr.edit.document import MAX_EDITS_BYTES, Pin, Region

ISSUE_EXAMPLE = {"paint2vr_edits": 1, "horizon": 0.42,
                 "sky": [[[0.0, 0.0], [1.0, 0.0], [1.0, 0.3], [0.0, 0.3]]],
                 "regions": [{"polygon": [[0.1, 0.6], [0.3, 0.6], [0.3, 0.9], [0.1, 0.9]], "depth": 2.0}],
                 "pins": [{"x": 0.5, "y": 0.8, "depth": 3.0}]}


def test_the_documented_example_parses():
    e = parse_edits(ISSUE_EXAMPLE)
    assert e.horizon == 0.42
    assert e.sky == (((0.0, 0.0), (1.0, 0.0), (1.0, 0.3), (0.0, 0.3)),)
    assert e.regions == (Region(((0.1, 0.6), (0.3, 0.6), (0.3, 0.9), (0.1, 0.9)), depth=2.0),)
    assert e.pins == (Pin(0.5, 0.8, 3.0),)
    assert e.changes_depth and not e.is_empty


def test_round_trip_is_exact_and_canonical(tmp_path):
    doc = dict(ISSUE_EXAMPLE, vanishing_point=[0.5, 0.4], not_sky=[[[0, 0], [0.1, 0], [0.1, 0.1]]],
               ground=[[[0, 0.9], [1, 0.9], [1, 1]]], layers={"drop": ["layer3"], "merge": [["layer1", "layer2"]]},
               effects={"snow": {"density": 2}}, studio_note="kept")
    e = parse_edits(doc)
    text = dumps_edits(e)
    assert loads_edits(text) == e
    assert dumps_edits(loads_edits(text)) == text
    assert text.splitlines()[1] == '  "paint2vr_edits": 1,'
    assert edits_to_dict(e)["studio_note"] == "kept"  # unknown top-level keys survive a round trip
    path = tmp_path / "e.json"
    path.write_text(text)
    assert read_edits(path) == e


@pytest.mark.parametrize("change, key", [
    ({"paint2vr_edits": 2}, "paint2vr_edits"),
    ({"horizon": "high"}, "horizon"),
    ({"horizon": float("nan")}, "horizon"),
    ({"sky": {"a": 1}}, "sky"),
    ({"sky": [[[0, 0], [1, 0]]]}, "sky[0]"),
    ({"sky": [[[0, 0], [1, 0], [1, "x"]]]}, "sky[0][2][1]"),
    ({"regions": [{"polygon": [[0, 0], [1, 0], [1, 1]]}]}, "regions[0]"),
    ({"regions": [{"polygon": [[0, 0], [1, 0], [1, 1]], "depth": -1}]}, "regions[0].depth"),
    ({"regions": [{"polygon": [[0, 0], [1, 0], [1, 1]], "depth": 1, "colour": 1}]}, "regions[0].colour"),
    ({"pins": [{"x": 0.5, "y": 2, "depth": 3}]}, "pins[0].y"),
    ({"pins": [{"x": 0.5, "depth": 3}]}, "pins[0].y"),
    ({"pins": [{"x": True, "y": 0.5, "depth": 3}]}, "pins[0].x"),
    ({"layers": {"drop": [3]}}, "layers.drop[0]"),
    ({"layers": {"merge": [["layer1"]]}}, "layers.merge[0]"),
    ({"effects": {"snow": 2}}, "effects.snow"),
])
def test_malformed_keys_are_named(change, key):
    with pytest.raises(EditsError) as info:
        parse_edits({**ISSUE_EXAMPLE, **change})
    message = str(info.value)
    assert message.startswith(key + ":") or message.startswith(key + "."), message
    assert "\n" not in message


@pytest.mark.parametrize("text, words", [
    ("{", "not JSON"), ("[1, 2]", "expected a JSON object"), ("[" * 100 + "]" * 100, "nested deeper"),
    (b"\xff\xfe", "not UTF-8"), ("x" * (MAX_EDITS_BYTES + 1), "characters"),
])
def test_bad_documents_are_refused_in_one_line(text, words):
    with pytest.raises(EditsError, match=words):
        loads_edits(text, "e.json")


def test_missing_file_is_an_edits_error(tmp_path):
    with pytest.raises(EditsError, match="cannot read the edits file"):
        read_edits(tmp_path / "none.json")


def test_cli_refuses_a_malformed_edits_file_in_one_line(tmp_path, small_sample, capsys):
    from paint2vr.cli.main import main
    bad = tmp_path / "bad.json"
    bad.write_text('{"paint2vr_edits": 1, "regions": [{"polygon": [[0, 0], [1, 0], [1, 1]], "depth": "near"}]}')
    out = tmp_path / "x.glb"
    assert main(["convert", str(small_sample), "--edits", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "regions[0].depth" in err[0] and str(bad) in err[0]
    assert not out.exists()
    assert main(["depth", str(small_sample), "--edits", str(bad), "-o", str(tmp_path / "d.npy")]) == 2

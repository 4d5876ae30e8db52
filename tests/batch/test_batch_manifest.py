"""Manifest parsing and up-front checks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from batch_fakes import make_items, make_png, write_manifest  # noqa: E402

from paint2vr.batch.manifest import (ManifestOptions, check_manifest, id_problem, iter_chunks,  # noqa: E402
                                     iter_manifest, resolve_location)
from paint2vr.errors import InputError, ManifestError  # noqa: E402


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_formats_give_the_same_items(tmp_path, fmt):
    rows = make_items(tmp_path, 3)
    rows[1]["options"] = {"seed": 5, "effects": ["snow"]}
    m = write_manifest(tmp_path / f"m.{fmt}", rows)
    assert check_manifest(m).rows == 3
    items = [i for chunk in iter_manifest(m) for i in chunk]
    assert [i.id for i in items] == ["p0", "p1", "p2"]
    assert items[1].options == {"seed": 5, "effects": ["snow"]}
    assert items[0].location == str(tmp_path / "img" / "p0.png")
    assert (items[0].license, items[0].attribution, items[0].title, items[0].artist) == \
        ("CC0", "Painter 0", "Work 0", "Anon")
    # CSV/JSONL: file line numbers (CSV header = line 1); Parquet: 1-based rows
    assert [i.line for i in items] == ([2, 3, 4] if fmt == "csv" else [1, 2, 3])


def test_all_problems_reported_at_once_with_lines(tmp_path):
    rows = make_items(tmp_path, 3)
    rows += [
        dict(rows[0]),                                                        # line 5: duplicate id
        {"id": "nolic", "path": "img/p0.png", "license": "", "attribution": "x"},   # 6
        {"id": "../evil", "path": "img/p0.png", "license": "CC0", "attribution": "x"},  # 7
        {"id": "gone", "path": "img/nope.png", "license": "CC0", "attribution": "x"},   # 8
        {"id": "web", "path": "http://example.com/a.png", "license": "CC0", "attribution": "x"},  # 9
        {"id": "opt", "path": "img/p1.png", "license": "CC0", "attribution": "x", "options": {"model": "x"}},  # 10
    ]
    m = write_manifest(tmp_path / "m.csv", rows)
    with pytest.raises(ManifestError) as ei:
        check_manifest(m)
    lines = {ln: msg for ln, msg in ei.value.problems}
    assert sorted(lines) == [5, 6, 7, 8, 9, 10]
    assert "duplicate id 'p0' (first on line 2)" in lines[5]
    assert "licence" in lines[6]
    assert "path separator" in lines[7]
    assert "cannot read" in lines[8]
    assert "unsupported location scheme 'http'" in lines[9]
    assert "may only set" in lines[10]
    assert "6 problem(s)" in str(ei.value)


@pytest.mark.parametrize("bad", ["", "a/b", "a\\b", "..", ".hidden", "/abs", "x\x00y", "tab\there",
                                 "x" * 201, " pad", "C:evil"])
def test_unsafe_ids(bad):
    assert id_problem(bad) is not None


@pytest.mark.parametrize("good", ["p1", "Bruegel_1565-hunters", "x" * 200, "ünïcode 名前", "a.b"])
def test_safe_ids(good):
    assert id_problem(good) is None


def test_resolve_location(tmp_path):
    m = str(tmp_path / "m.csv")
    assert resolve_location("a/b.png", m) == str(tmp_path / "a" / "b.png")
    assert resolve_location("/abs/x.png", m) == "/abs/x.png"
    assert resolve_location("s3://bucket/x.png", m) == "s3://bucket/x.png"
    assert resolve_location("x.png", "memory://folder/m.csv") == "memory://folder/x.png"
    assert resolve_location("x.png", f"file://{tmp_path}/m.csv") == str(tmp_path / "x.png")
    for bad in ("ftp://h/x.png", "javascript:alert(1)", "https://h/x.png", ""):
        with pytest.raises(InputError):
            resolve_location(bad, m)


def test_memory_and_file_urls(tmp_path):
    import fsspec
    png = make_png(tmp_path / "a.png", 0)
    fs = fsspec.filesystem("memory")
    fs.pipe("/p2vtest/b.png", png.read_bytes())
    rows = [{"id": "a", "path": f"file://{png}", "license": "CC0", "attribution": "x"},
            {"id": "b", "path": "memory://p2vtest/b.png", "license": "CC0", "attribution": "x"},
            {"id": "c", "path": "memory://p2vtest/missing.png", "license": "CC0", "attribution": "x"}]
    m = write_manifest(tmp_path / "m.jsonl", rows)
    with pytest.raises(ManifestError) as ei:
        check_manifest(m)
    assert [ln for ln, _ in ei.value.problems] == [3]
    assert check_manifest(m, ManifestOptions(check_locations=False)).rows == 3


def test_streams_in_chunks(tmp_path):
    png = make_png(tmp_path / "a.png", 0)
    m = tmp_path / "big.jsonl"
    m.write_text("".join(json.dumps({"id": f"i{i}", "path": png.name, "license": "CC0", "attribution": "x"}) + "\n"
                         for i in range(2500)))
    sizes = [len(c) for c in iter_chunks(m, ManifestOptions(chunk_rows=1000))]
    assert sizes == [1000, 1000, 500]
    assert check_manifest(m).rows == 2500


def test_bad_manifests(tmp_path):
    with pytest.raises(InputError):
        check_manifest(tmp_path / "missing.csv")
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(InputError, match="format"):
        check_manifest(tmp_path / "m.txt")
    (tmp_path / "m.csv").write_text("id,path\na,b\n")
    with pytest.raises(ManifestError, match="missing column"):
        check_manifest(tmp_path / "m.csv")
    (tmp_path / "m.jsonl").write_text('{"id": "a"\n[1]\n')
    with pytest.raises(ManifestError) as ei:
        check_manifest(tmp_path / "m.jsonl")
    assert [ln for ln, _ in ei.value.problems] == [1, 2]
    (tmp_path / "e.csv").write_text("id,path,license,attribution\n")
    with pytest.raises(ManifestError, match="no rows"):
        check_manifest(tmp_path / "e.csv")

"""The review queue round trip: a small batch, the queue in Chromium (open the least sure scene,
edit, save), then 'batch --rerun-edited' converts just that item again with its edits."""

import csv
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from paint2vr.batch.layout import output_relpath
from paint2vr.cli.main import main
from paint2vr.export.inspect import inspect_file
from paint2vr.studio import QueueItem, batch_items, studio_server
from paint2vr.studio.queue import confidence_of, queue_order, scene_record
from test_studio_browser import HERE, ROOT, _node


@pytest.fixture()
def batch(tmp_path, sample_rgb_small):
    """Two items of one small painting: 'alpha' converted with a designer's edits (manifest
    column 'edits': depth confidence 1), 'beta' with the estimate alone (less sure)."""
    small = Image.fromarray(sample_rgb_small).resize((240, 160))
    (tmp_path / "alpha.edits.json").write_text('{"paint2vr_edits": 1, "pins": [{"x": 0.5, "y": 0.8, "depth": 3.0}]}')
    rows = []
    for name in ("alpha", "beta"):
        small.save(tmp_path / f"{name}.png")
        rows.append({"id": name, "path": f"{name}.png", "license": "CC0", "attribution": "paint2vr sample",
                     "edits": "alpha.edits.json" if name == "alpha" else ""})
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "--out", str(out), "--inline", "--no-progress"]) == 0
    return manifest, out


def _audit(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]


def test_queue_lists_least_sure_first():
    items = [QueueItem("b", Path("b.png"), Path("b.e"), confidence=0.9), QueueItem("a", Path("a.png"), Path("a.e"), confidence=0.2),
             QueueItem("c", Path("c.png"), Path("c.e")), QueueItem("d", Path("d.png"), Path("d.e"), confidence=0.2)]
    items.sort(key=queue_order)
    assert [i.id for i in items] == ["c", "a", "d", "b"]


def test_confidence_records():
    assert confidence_of({"value": 0.25, "basis": "scale:range"}) == (0.25, "scale:range")
    assert confidence_of(0.5) == (0.5, "")
    for bad in (None, {"value": None, "basis": "none"}, {"value": float("nan")}, "0.5", {"value": True}):
        assert confidence_of(bad) == (None, "none")


def test_queue_reads_the_sidecar_first(tmp_path):
    scene = tmp_path / "ab" / "x.glb"
    scene.parent.mkdir()
    scene.write_bytes(b"not a glb")
    assert scene_record(scene) == (None, "none", None)  # damaged: listed, not fatal
    (tmp_path / "ab" / "x.provenance.json").write_text(json.dumps(
        {"depth_confidence": {"value": 0.31, "basis": "pixels"}, "edits": {"file": "x.edits.json", "sha256": "ab" * 32}}))
    assert scene_record(scene) == (0.31, "pixels", "ab" * 32)


def test_not_a_batch_folder(tmp_path):
    with pytest.raises(Exception, match="not a batch output folder"):
        batch_items(tmp_path)


def test_review_queue_round_trip(batch, tmp_path):
    manifest, out = batch
    items = batch_items(out)
    # least sure first: beta (the estimate alone) before alpha (converted with edits: 1)
    assert [i.id for i in items] == ["beta", "alpha"] and not any(i.needs_rerun() for i in items)
    assert items[1].confidence == 1.0 and items[1].confidence_basis == "edits"
    assert 0.0 <= items[0].confidence < 1.0 and items[0].confidence_basis in ("estimator", "pixels")
    for it in items:
        assert it.confidence == inspect_file(it.scene).provenance["depth_confidence"]["value"]
    node = _node()
    with studio_server(items, queue_mode=True, port=0) as srv:
        run = subprocess.run([node, str(HERE / "studio_queue.mjs"), srv.url, str(tmp_path)], cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    if __import__("os").environ.get("P2V_STUDIO_SHOTS"):  # regenerate the docs' screenshot
        shutil.copy(tmp_path / "studio_queue.png", ROOT / "docs" / "images" / "studio_queue.png")
    assert report.get("error") is None, report.get("error")
    assert report["consoleErrors"] == [] and report["pageErrors"] == [] and report["badResponses"] == []
    assert report["cards"] == ["beta", "alpha"] and report["opened"] == "beta"
    assert report["confidence"] == [f"confidence {it.confidence:.2f}" for it in items]
    assert "marked for re-run" in report["status"]
    edits = out / output_relpath("beta", ".edits.json")
    assert edits.is_file()
    assert [i.id for i in batch_items(out) if i.needs_rerun()] == ["beta"]

    before = len(_audit(out))
    glb_alpha = (out / output_relpath("alpha")).read_bytes()
    assert main(["batch", str(manifest), "--out", str(out), "--inline", "--no-progress", "--rerun-edited"]) == 0
    done = json.loads((out / "report.json").read_text())
    assert (done["done"], done["skipped"], done["failed"]) == (1, 1, 0)
    audit = _audit(out)
    assert len(audit) == before + 1 and audit[-1]["id"] == "beta"
    glb = out / output_relpath("beta")
    assert audit[-1]["output_sha256"] == hashlib.sha256(glb.read_bytes()).hexdigest()
    assert inspect_file(glb).provenance["edits"]["sha256"] == hashlib.sha256(edits.read_bytes()).hexdigest()
    assert (out / output_relpath("alpha")).read_bytes() == glb_alpha
    assert not any(i.needs_rerun() for i in batch_items(out))
    # edited now: beta's depth is the designer's, as sure as alpha's
    assert [(i.id, i.confidence, i.confidence_basis) for i in batch_items(out)] == \
        [("alpha", 1.0, "edits"), ("beta", 1.0, "edits")]
    # A plain rerun keeps the edits (they are the item's state now): nothing to redo.
    assert main(["batch", str(manifest), "--out", str(out), "--inline", "--no-progress"]) == 0
    assert json.loads((out / "report.json").read_text())["skipped"] == 2


def test_manifest_edits_column(batch, tmp_path):
    manifest, out = batch
    e = tmp_path / "beta.json"
    e.write_text('{"paint2vr_edits": 1, "horizon": 0.3}')
    text = manifest.read_text().splitlines()
    assert text[0].endswith(",edits") and text[2].endswith(",")  # beta: no edits yet
    text[2] += "beta.json"
    manifest.write_text("\n".join(text) + "\n")
    assert main(["batch", str(manifest), "--out", str(out), "--inline", "--no-progress"]) == 0
    rep = json.loads((out / "report.json").read_text())
    assert (rep["done"], rep["skipped"]) == (1, 1)
    prov = inspect_file(out / output_relpath("beta")).provenance
    assert prov["edits"]["sha256"] == hashlib.sha256(e.read_bytes()).hexdigest()
    assert prov["depth_confidence"]["basis"] == "edits" and prov["depth_confidence"]["value"] == 1.0
    bad = tmp_path / "bad.csv"
    bad.write_text(manifest.read_text().replace("beta.json", "s3://bucket/e.json"))
    assert main(["batch", str(bad), "--out", str(tmp_path / "o2"), "--inline", "--no-progress"]) == 2

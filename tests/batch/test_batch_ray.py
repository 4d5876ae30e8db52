"""The Ray Data engine: same layout, skip-if-done, failures, report and audit as local."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from batch_fakes import FakeEstimator, make_items, write_manifest  # noqa: E402

from paint2vr.batch import BatchOptions, run_batch, shard_of  # noqa: E402

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install paint2vr[ray])")
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray():
    import batch_fakes
    from ray import cloudpickle
    cloudpickle.register_pickle_by_value(batch_fakes)  # Ray's workers cannot import the test folder
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_engine(local_ray, tmp_path, gltf_validator):
    rows = make_items(tmp_path / "in", 5)
    (tmp_path / "in" / "img" / "p3.png").write_bytes(b"garbage")
    m = write_manifest(tmp_path / "in" / "m.jsonl", rows)
    out = tmp_path / "out"
    opts = BatchOptions(engine="ray", depth_batch_size=2)
    rep = run_batch(m, out, opts)
    assert (rep.engine, rep.done, rep.failed) == ("ray", 4, 1)
    assert rep.failures[0]["id"] == "p3" and "ImageLoadError" in rep.failures[0]["error"]
    assert {"depth", "lift", "export", "write"} <= set(rep.stages)
    glbs = sorted(out.glob("*/*.glb"))
    assert sorted(g.relative_to(out).as_posix() for g in glbs) == \
        sorted(f"{shard_of(f'p{i}')}/p{i}.glb" for i in (0, 1, 2, 4))
    gltf_validator(*glbs)
    lines = [json.loads(x) for x in (out / "audit.jsonl").read_text().splitlines()]
    assert sorted(x["id"] for x in lines) == [f"p{i}" for i in range(5)]
    # skip-if-done is decided before submitting; the failed item is tried again
    rep2 = run_batch(m, out, opts)
    assert (rep2.skipped, rep2.failed, rep2.done) == (4, 1, 0)
    # a learned model stands in: held by the actor, called with whole batches
    rep3 = run_batch(m, tmp_path / "out2", opts, estimator=FakeEstimator())
    assert rep3.done == 4

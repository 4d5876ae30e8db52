"""The benchmark command works end to end (tiny sizes; its timings are not checked)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_smoke(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "| input | MP |" in run.stdout and "## Output per profile" in run.stdout
    res = json.loads(out.read_text())
    assert len(res["stages"]) == 2
    for row in res["stages"]:
        assert "error" not in row, row
        assert set(row["seconds_per_mp"]) == {"load", "depth", "lift", "effects", "export"}
        assert row["max_rss_mb"] > 50 and row["glb_bytes"] > 1000
    assert {r["profile"] for r in res["profiles"]} == {"quest", "desktop", "points", "splat"}
    assert all(r["bytes"] > 0 and r["draw_calls"] >= 1 for r in res["profiles"])
    assert res["batch"]["scaling"]["items_per_s_1_worker"] > 0
    assert "overhead_pct" in res["batch"]["overhead"]
    assert "skipped" in res["gpu"] or res["gpu"]["ratio"] > 0

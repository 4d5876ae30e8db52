"""docs/guide.md's code blocks run as written."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_guide_examples_run(monkeypatch, gltf_validator):
    text = (ROOT / "docs" / "guide.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(ROOT)
    (ROOT / "out").mkdir(exist_ok=True)
    for i, code in enumerate(blocks):
        exec(compile(code, f"docs/guide.md[block {i}]", "exec"), {"__name__": f"guide{i}"})
    written = [ROOT / "out" / n for n in ("guide_snow.glb", "guide_fixed.glb", "guide_edited.glb")]
    assert all(p.exists() for p in written)
    # the batch example converts the painting, and skips the depth map beside it
    assert sorted(p.name for p in (ROOT / "out" / "guide_batch").glob("*.glb")) == ["sample_painting.glb"]
    gltf_validator(*written)

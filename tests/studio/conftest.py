from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample_painting.png"


@pytest.fixture(scope="session")
def sample_rgb_small() -> np.ndarray:
    """The project's sample painting at 480 px wide."""
    img = Image.open(SAMPLE).convert("RGB")
    img = img.resize((480, round(480 * img.height / img.width)), Image.Resampling.LANCZOS)
    return np.asarray(img)


@pytest.fixture()
def small_sample(tmp_path, sample_rgb_small) -> Path:
    """The sample painting at 480 px wide, as a file."""
    path = tmp_path / "sample.png"
    Image.fromarray(sample_rgb_small).save(path)
    return path

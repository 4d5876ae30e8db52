"""Coverage-guided fuzzing of load_painting with atheris (not run by pytest or CI).

    pip install atheris
    python tests/loading/fuzz_loader.py -max_total_time=600 corpus_dir/

Any exception other than ImageLoadError, or a Painting that breaks the data model, is a
crash that atheris saves as a reproducer. The seeds in test_loading_fuzz are a good start.
"""

from __future__ import annotations

import os
import sys
import tempfile

try:
    import atheris
except ImportError:  # pragma: no cover - optional tool
    sys.exit("atheris is not installed: pip install atheris")

with atheris.instrument_imports():
    import numpy as np
    from paint2vr.errors import ImageLoadError
    from paint2vr.painting import LoadOptions, load_painting

OPTIONS = LoadOptions(max_pixels=4_000_000, max_side=512)
_fd, PATH = tempfile.mkstemp(suffix=".img")
os.close(_fd)


def test_one_input(data: bytes) -> None:
    with open(PATH, "wb") as f:
        f.write(data)
    try:
        p = load_painting(PATH, options=OPTIONS)
    except ImageLoadError:
        return
    if p.rgb.dtype != np.uint8 or p.rgb.ndim != 3 or p.rgb.shape[2] != 3:
        raise RuntimeError(f"bad Painting: {p.rgb.dtype} {p.rgb.shape}")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()

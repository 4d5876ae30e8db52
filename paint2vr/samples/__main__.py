"""``python -m paint2vr.samples [ASSETS_DIR]``: regenerate the sample painting and its depth."""

import sys

from . import write_sample

if __name__ == "__main__":
    for name, path in write_sample(sys.argv[1] if len(sys.argv) > 1 else "assets").items():
        print(f"{name}: {path}")

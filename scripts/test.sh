#!/usr/bin/env bash
# Quick start, step 2: install the test tools (pytest, Khronos glTF-Validator, Chromium, Ray)
# and run the whole test suite, one worker per core. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
say() { printf '[test] %s\n' "$*"; }

if ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's chromium (browser tests)"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
stamp=.venv/.paint2vr-test-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing the test extras (pytest, hypothesis, ray)"
  .venv/bin/pip install -q -e '.[test,ray]'
  touch "$stamp"
fi
if [ ! -f node_modules/gltf-validator/package.json ] || [ ! -f node_modules/playwright-core/package.json ]; then
  say "installing the glTF validator and playwright-core"
  npm ci --no-audit --no-fund --silent >/dev/null
fi
# One pytest worker per core (pytest-xdist), a test file per worker so a module's fixtures run
# once; PAINT2VR_TEST_WORKERS=0 runs everything in this process.
exec .venv/bin/python -m pytest -q -n "${PAINT2VR_TEST_WORKERS:-auto}" --dist loadfile "$@"

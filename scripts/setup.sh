#!/usr/bin/env bash
# Quick start, step 1: install everything paint2vr needs into .venv and convert the sample painting.
# Idempotent: a second run only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

# open3d needs libusb-1.0 at import time on Debian.
if ! ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
  say "installing Debian's libusb-1.0-0 (needed by open3d)"
  apt-get update -qq && apt-get install -y -qq libusb-1.0-0 >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
PIP=".venv/bin/pip"

# torch: the CPU build where there is no NVIDIA GPU (a bare 'torch' would pull a multi-GB CUDA build).
# On a GPU machine set PAINT2VR_TORCH="torch" (or a CUDA index URL spec) before running this script.
if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  if [ -n "${PAINT2VR_TORCH:-}" ]; then
    say "installing ${PAINT2VR_TORCH}"
    $PIP install -q ${PAINT2VR_TORCH}
  elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    say "NVIDIA GPU found: installing torch with CUDA"
    $PIP install -q torch
  else
    say "no GPU: installing torch's CPU build"
    $PIP install -q torch==2.13.0
  fi
fi

# The package itself (editable), only when its metadata changed since the last install.
stamp=.venv/.paint2vr-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || ! .venv/bin/python -c 'import paint2vr' 2>/dev/null; then
  say "installing paint2vr and its dependencies"
  $PIP install -q -e .
  touch "$stamp"
fi

# three.js for the WebXR viewer, served locally (no CDN at run time).
if [ ! -f node_modules/three/package.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing the viewer's npm packages"
  npm ci --omit=dev --no-audit --no-fund --silent >/dev/null
fi

mkdir -p out
.venv/bin/paint2vr convert assets/sample_painting.png -o out/sample.glb
say "done: the sample scene is out/sample.glb (view it with: .venv/bin/paint2vr view out/sample.glb)"

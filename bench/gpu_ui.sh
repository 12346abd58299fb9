#!/usr/bin/env bash
# The browser studio on the GPU machine (the device tool): its API tests on CUDA, then `python app.py` as the
# README runs it, driven by bench/ui_session.py (train, snapshot, compare, download; stylizing meanwhile).
# Carried (ignored) folders: .gpu/uiwhl (gradio and what the device lacks, cp312 wheels; gradio without
# its browser bundle, which API calls do not need), .gpu/vgg (the loss network in fp16, to fit the 64 MiB
# carry; widened to fp32 here), .gpu/photo (one photo to stylize).
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=/tmp/cache
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT" /tmp/cache
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/uiwhl/*.whl \
  && export PYTHONPATH=/tmp/site:$PWD || exit 1
python3 - <<'PY'
import torch
from safetensors.torch import load_file, save_file
s = load_file(".gpu/vgg/vgg16-hed-relu4_3.fp16.safetensors")
save_file({k: v.float() for k, v in s.items()}, "/tmp/cache/vgg16-hed-relu4_3.safetensors")
import gradio, studio
print("gradio", gradio.__version__, "torch", torch.__version__, "cuda", torch.cuda.is_available())
PY
echo "== API tests (tests/test_ui.py) on CUDA"
timeout 240 python3 -m pytest -q -p no:cacheprovider tests/test_ui.py --durations=8 --tb=short -W ignore 2>&1 | tail -45
echo "== python app.py, driven by bench/ui_session.py"
GRADIO_SERVER_NAME=127.0.0.1 GRADIO_SERVER_PORT=7860 python3 app.py > "$OUT/app.log" 2>&1 &
python3 -c "
import socket, time
for _ in range(120):
    try: socket.create_connection(('127.0.0.1', 7860), 1).close(); break
    except OSError: time.sleep(0.5)"
timeout 240 python3 bench/ui_session.py --iterations ${ITERATIONS:-1000} --photo .gpu/photo/*.jpg \
  --style presets/swirling-sky/style.jpg 2>&1 | tail -30
tail -5 "$OUT/app.log"

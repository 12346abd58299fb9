#!/usr/bin/env bash
# Train the presets on the GPU machine (the device tool), image and video use cases side by side.
# Needs the carried folder .gpu/ (data/content copied from ../shared/data, cache/vgg16-hed-relu4_3.safetensors,
# whl/ with tqdm). The models come back in $OUT as tar parts (the device returns at most 8 files of 16 MiB):
#   cat models.tar.part-* | tar xf -
# Usage: bash presets/gpu_train.sh [extra presets/train.py arguments, e.g. --no-multi or --only a,b]
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=$PWD/.gpu/cache
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; touch /tmp/train-start
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
for uc in image video; do
  timeout ${TRAIN_TIMEOUT:-540} python3 presets/train.py --content .gpu/data/content --use-case $uc "$@" \
    > "$OUT/train-$uc.log" 2>&1 &
done
wait
tail -n 30 "$OUT"/train-*.log
find presets -name '*.safetensors' -newer /tmp/train-start | sort | tar cf - -T - | split -b 15M - "$OUT/models.tar.part-"
ls -la "$OUT"

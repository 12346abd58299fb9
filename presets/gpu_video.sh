#!/usr/bin/env bash
# Retrain the video presets and the all-presets video model with the current recipe (device tool, one call).
# Needs carried .gpu/data/content and .gpu/vgg (bench/gpu_data.py). The models come back in $OUT as a tar:
#   tar xf models.tar
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=/tmp/cache
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT" /tmp/cache
python3 bench/widen_vgg.py
timeout "${TRAIN_TIMEOUT:-220}" python3 presets/train.py --content .gpu/data/content --use-case video 2>&1 \
  | grep -v Warning | tee "$OUT/train-video.log"
ls presets/*/video.safetensors presets/all-video.safetensors | tar cf "$OUT/models.tar" -T -

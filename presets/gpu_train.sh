#!/usr/bin/env bash
# Train the presets on the GPU machine (the device tool), the use cases side by side.
# Needs the carried folders .gpu/data/content and styles-train (bench/gpu_data.py), .gpu/whl (tqdm) and the loss
# network: .gpu/cache/vgg16-hed-relu4_3.safetensors, or .gpu/vgg/vgg16-hed-relu4_3.fp16.safetensors (half the
# size, to fit the 64 MiB carry; widened to fp32 here). The models come back in $OUT as tar parts (the device
# returns at most 8 files of 16 MiB):
#   cat models.tar.part-* | tar xf -
# Usage: [USE_CASES="image video"] [PRETRAIN="video"] bash presets/gpu_train.sh [presets/train.py arguments]
#   The all-presets models are distilled after the single presets (presets/train.py); on the H200 the image use case
#   took about 300 s for its presets and 274 s for the distillation, near a call's 10 minutes: pass --no-multi here
#   and distill in a second call (bench/gpu_round13c.sh runs presets/distill.py).
#   PRETRAIN: use cases whose pre-trained start (studio/weights/init-<use case>) is re-made first.
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=$PWD/.gpu/cache
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; touch /tmp/train-start
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
if [ -d .gpu/whl ]; then  # tqdm, if carried
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
fi
if [ ! -f .gpu/cache/vgg16-hed-relu4_3.safetensors ]; then
  export STUDIO_CACHE=/tmp/cache; mkdir -p /tmp/cache
  python3 bench/widen_vgg.py
fi
for uc in ${USE_CASES:-image video}; do
  (
    if [[ " ${PRETRAIN:-} " == *" $uc "* ]]; then
      python3 -m studio.train.pretrain --content .gpu/data/content --styles .gpu/data/styles-train --use-case "$uc" \
        --photo-iterations "${PRETRAIN_ITERATIONS:-4000}" --style-iterations "${STYLE_ITERATIONS:-3000}" \
        -o "studio/weights/init-$uc.safetensors" || exit 1
    fi
    timeout "${TRAIN_TIMEOUT:-540}" python3 presets/train.py --content .gpu/data/content --use-case "$uc" "$@"
  ) > "$OUT/train-$uc.log" 2>&1 &
done
wait
tail -n 30 "$OUT"/train-*.log
find presets studio/weights -name '*.safetensors' -newer /tmp/train-start | sort | tar cf - -T - \
  | split -b 15M - "$OUT/models.tar.part-"
ls -la "$OUT"

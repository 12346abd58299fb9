#!/usr/bin/env bash
# The whole GPU session in one call (see the device tool): smoke test, contact sheets, training and
# stylizing benchmarks. Needs a carried folder .gpu/ with data/{content,styles} (copied from ../shared/data)
# and cache/vgg16-hed-relu4_3.safetensors (made by ./setup.sh). Results and logs go to $OUT.
#   usage: bash bench/gpu_run.sh [sheet variants...]
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=$PWD/.gpu/cache
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
D=.gpu/data
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, PIL, safetensors; print('torch', torch.__version__, 'pillow', PIL.__version__)"
if [ -n "${PRETRAIN_ITERS:-}" ]; then  # the pre-trained starts, shipped in studio/weights/
  for uc in image video; do
    timeout 300 python3 -m studio.train.pretrain --content $D/content --styles $D/styles-train --use-case $uc \
      --photo-iterations $PRETRAIN_ITERS --style-iterations ${STYLE_ITERS:-3000} \
      -o studio/weights/init-$uc.safetensors 2>&1 | tee -a "$OUT/pretrain.log"
    cp studio/weights/init-$uc.safetensors "$OUT/"
  done
fi
# pytest and tqdm travel as wheels in .gpu/whl
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
if [ "${GPU_TESTS:-0}" = 1 ]; then  # the CUDA tests
  timeout 200 python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py tests/test_model.py \
    2>&1 | tee "$OUT/gpu_tests.log" | tail -5
fi
if [ "${CLI_E2E:-0}" = 1 ]; then  # the README's command line, end to end, timed
  TIMEFORMAT='studio train: %R s wall'
  { time python3 -m studio train $D/styles/mosaic.jpg --content $D/content -o /tmp/mosaic.safetensors 2>/dev/null ; } \
    2>&1 | tee "$OUT/cli.log"
  python3 -m studio stylize /tmp/mosaic.safetensors $D/content/100075.jpg -o "$OUT" 2>&1 | tee -a "$OUT/cli.log"
  python3 -m studio info /tmp/mosaic.safetensors 2>&1 | tee -a "$OUT/cli.log"
fi
cd bench
[ "${PROFILE:-0}" = 1 ] && timeout 120 python3 profile_step.py --style ../$D/styles/mosaic.jpg --content ../$D/content \
  2>&1 | tee "$OUT/profile.log" | tail -32
variants=("$@"); [ ${#variants[@]} -gt 0 ] || variants=(studio plain:iterations=1500)
timeout ${SHEET_TIMEOUT:-330} python3 contact_sheet.py --styles ../$D/styles --content ../$D/content --out "$OUT" \
  ${SHEET_ONLY:+--only $SHEET_ONLY} ${SHEET_PHOTOS:+--photos $SHEET_PHOTOS} \
  --variants "${variants[@]}" 2>&1 | tee "$OUT/sheet.log"
[ "${SKIP_SPEED:-0}" = 1 ] || timeout ${SPEED_TIMEOUT:-150} python3 train_speed.py --style ../$D/styles/mosaic.jpg --content ../$D/content \
  --iterations ${SPEED_ITERS:-1500} --variants ${SPEED_VARIANTS:-eager-fp32,studio-eager,studio,studio+compile} \
  2>&1 | tee "$OUT/train_speed.log"
[ "${SKIP_STYLIZE:-0}" = 1 ] || timeout 60 python3 stylize_speed.py 2>&1 | tee "$OUT/stylize_speed.log"

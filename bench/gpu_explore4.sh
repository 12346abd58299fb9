#!/usr/bin/env bash
# Fourth exploration call (device tool; a record): after gpu_explore3.sh found coarser strokes (density 128) cost
# 0.13 of style similarity, finer densities (384, 512; strength 10 to look for droplets), a fine-tune led by the
# per-style parameters, and density 384 without the saturation/spike penalties, on the 12 explore paintings.
# Needs carried .gpu/data/{content,photos,faces,styles-bench}, .gpu/vgg and .bench-site. Results go to $OUT.
source bench/gpu_prelude.sh
EXPLORE=$(ls $D/styles-bench/*.jpg | awk 'NR%3==1' | sed 's|^|../|')
LEFT=$(( ${BUDGET:-560} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 15)) python3 quality.py --styles $EXPLORE --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 12 --iterations 200 --bank 12 --no-lite --deadline $((LEFT - 30)) --variants \
  "studio:density=384,label=d384" "studio:density=512,label=d512" "studio:density=384,strengths=10,label=d384" \
  "studio:learning_rate=0.0001,norm_lr_scale=50,label=gb" \
  "studio:density=384,saturation_weight=0,spike_weight=0,label=d384nosat" "studio:temperature=0.05,label=t05" \
  2>&1 | tee $R/explore.log | grep -v "^{")
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

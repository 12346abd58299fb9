#!/usr/bin/env bash
# Tenth round of issue 14, fifth call (device tool; a record): the structure term as made the default (1.11 at
# strength 5, scaled with the style weight) at strengths 8 and 1, on the 30 held-out paintings x 14 photos (6
# portraits) of bench/gpu_adopt4.sh, 100 iterations, banks of 15: does strength still order both measures?
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-170}
BANK=15 LITE=--no-lite heldout_bench structure-strengths "studio:strengths=8/1,label=default"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Twelfth round of issue 14, fifth call (device tool; a record): is the painting's scale worth choosing per painting?
# Density 384 and 512 moved the mean style similarity by +0.003 and -0.012 (tenth round), but a mean can hide
# paintings that gain much at one scale and lose at another. The 12 explore paintings x 14 photos (6 portraits),
# 100 iterations, strength 5, at four densities; quality.csv gives each painting's best (the oracle) for the note.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-560}
explore_bench density image "studio:label=d256" "studio:density=192,label=d192" "studio:density=384,label=d384" \
  "studio:density=512,label=d512"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

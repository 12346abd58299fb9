#!/usr/bin/env bash
# Tenth round of issue 14, fourth call (device tool; a record): the structure term (LossRecipe.structure_weight
# 1.11 at strength 5, scaled with the style weight) for the video use case, against it switched off, on the 12
# explore paintings x 14 photos (6 portraits), 100 iterations, strength 5 (round nine: 0.866 / 0.481).
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-330}
explore_bench video-structure video "studio:structure_weight=0,label=none" "studio:label=structure"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

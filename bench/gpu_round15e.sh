#!/usr/bin/env bash
# Fifteenth round of issue 14, fifth call (device tool; a record): the local-contrast term (LossRecipe.contrast_weight:
# the distribution of the luminance's deviation in 8 px windows matched to the painting's) against the large flat
# regions the held-out sheets show. The 12 explore paintings x 14 photos (6 portraits), 100 iterations, strength 5.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-200}
explore_bench contrast image "studio:contrast_weight=1,label=contrast1" "studio:contrast_weight=4,label=contrast4"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Thirteenth round of issue 14, first call (device tool; a record): does the finest texture hold the style gap?
# Style similarity is very sensitive to the finest texture (a 1 px blur of the presets' results: -0.124,
# bench/palette_probe.py), and two terms of the recipe pull against texture at that scale: the structure term at
# full size asks for the photo's own pixel-level light and dark, and relu1_1 weighs no more than the coarser
# layers. The 12 explore paintings x 14 photos (6 portraits), 100 iterations, strength 5; the default is
# gpu_round12e.sh's d256 row (the same code and seeds): 0.896 / 0.569.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-565}
explore_bench texture image "studio:style_layer_weights=4/1/1/1,label=relu1x4" \
  "studio:structure_scales=1/2,label=struct12" "studio:sliced_weight=4,label=sliced4" \
  "studio:structure_scales=1/2,style_layer_weights=4/1/1/1,label=struct12-relu1x4"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

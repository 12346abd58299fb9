#!/usr/bin/env bash
# Fifteenth round of issue 14, second call (device tool; a record): do the small style gains add up? The contextual
# term at 0.25 (first call: +0.006 style, -0.024 SSIM) with the heavier sliced term (4), the finer painting scale
# (density 384), both, at strength 10, and with the contextual term also at relu2_1. The 12 explore paintings x 14
# photos (6 portraits), 100 iterations. Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg, .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-540}
explore_bench combined image "studio:contextual_weight=0.25,sliced_weight=4,label=cx025-s4" \
  "studio:contextual_weight=0.25,density=384,label=cx025-d384" \
  "studio:contextual_weight=0.25,sliced_weight=4,density=384,label=cx025-s4-d384" \
  "studio:contextual_weight=0.25,strengths=10,label=cx025-s10" \
  "studio:contextual_weight=0.25,sliced_weight=4,density=384,strengths=10,label=cx025-s4-d384-s10" \
  "studio:contextual_weight=0.25,contextual_layers=relu2_1/relu3_1/relu4_1,label=cx025-l234"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

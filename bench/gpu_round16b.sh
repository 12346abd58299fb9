#!/usr/bin/env bash
# Sixteenth round of issue 14, second call (device tool; a record): does the photo-keeping side of the loss stop
# the input noise from becoming texture? The noise drawn at 1/4 size (the first call's best) with the structure term
# off and the content term halved, against the same settings without noise; and the noise at strength 8 against the
# default there. The 12 explore paintings x 14 photos (6 portraits), 100 iterations.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-500}
N="input_noise=0.1,input_noise_scale=4,infer_noise=0.1"
explore_bench noise2 image "studio:label=default" "studio:structure_weight=0,label=nostruct" \
  "studio:structure_weight=0,$N,label=n10s4-nostruct" \
  "studio:structure_weight=0,content_weight=0.5,$N,label=n10s4-nostruct-c05" \
  "studio:structure_weight=0,content_weight=0.5,input_noise=0.2,infer_noise=0.2,label=n20-nostruct-c05" \
  "studio:strengths=8,label=default-s8" "studio:strengths=8,$N,label=n10s4-s8"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

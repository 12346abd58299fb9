#!/usr/bin/env bash
# Seventeenth round of issue 14, first call (device tool; a record): the sixteenth round's start re-made on 244
# augmented styles and its control, side by side on one GPU. Stage 2 of studio.train.pretrain continues from the
# shipped image start for ${ITERATIONS:-1200} iterations, once on the 61 training paintings made into 244 styles
# (bench/augment_styles.py) and once on the 61 as they are; then both starts and the shipped one on the 12 explore
# paintings x 14 photos (6 portraits), 100 iterations, strength 5. The starts come back with the results for
# bench/gpu_round17b.sh (the 30 held-out paintings). Run as `OUT=$OUT bash bench/gpu_round17a.sh`.
# Needs carried .gpu/data/{content-distill,styles-train,photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-560}
remake_starts image init 330
explore_bench start image "studio:label=shipped" $(for kind in aug plain; do
  [ -f $R/init-$kind.safetensors ] && echo "studio:start=$R/init-$kind.safetensors,label=$kind"; done)
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Sixteenth round of issue 14, third call (device tool; a record): a start re-made on more styles. Stage 2 of
# studio.train.pretrain continued from the shipped image start on the 61 training paintings made into 244 styles
# (bench/augment_styles.py: each painting, two opposite corners, its hues turned), then that start and the shipped one
# on the 12 explore paintings x 14 photos (6 portraits), 100 iterations, strength 5. Run as
# `rm -rf /tmp/res /tmp/styles-aug; BUDGET=270 ITERATIONS=1200 OUT=$OUT bash bench/gpu_round16c.sh` (the device time
# left); KINDS="aug plain" also re-makes the control, the same continuation on the 61 paintings as they are.
# Needs carried .gpu/data/{content-distill,styles-train,photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-540}
python3 bench/augment_styles.py $D/styles-train /tmp/styles-aug
for kind in ${KINDS:-aug}; do
  styles=$([ $kind = aug ] && echo /tmp/styles-aug || echo $D/styles-train)
  timeout 200 python3 -m studio.train.pretrain --content $D/content-distill --styles $styles --use-case image \
    --photo-iterations 0 --start studio/weights/init-image.safetensors --style-iterations ${ITERATIONS:-1500} \
    -o $R/init-$kind.safetensors > $R/pretrain-$kind.log 2>&1 &
done
wait; tail -n 2 $R/pretrain-*.log
explore_bench start image "studio:label=shipped" $(for kind in ${KINDS:-aug}; do
  [ -f $R/init-$kind.safetensors ] && echo "studio:start=$R/init-$kind.safetensors,label=$kind"; done)
# the re-made starts come back with the results (about 3.5 MB each), for a held-out bench without re-making them
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

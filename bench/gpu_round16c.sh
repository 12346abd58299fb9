#!/usr/bin/env bash
# Sixteenth round of issue 14, third call (device tool; a record): a start re-made on more styles. Stage 2 of
# studio.train.pretrain continued from the shipped image start on the 61 training paintings made into 366 styles
# (bench/augment_styles.py: each painting, its four corners, its hues turned), side by side with the same
# continuation on the 61 paintings as they are (the control: the same iterations, without the new styles); then both
# starts and the shipped one on the 12 explore paintings x 14 photos (6 portraits), 100 iterations, strength 5.
# Needs carried .gpu/data/{content-distill,styles-train,photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-540}
python3 bench/augment_styles.py $D/styles-train /tmp/styles-aug
for kind in aug plain; do
  styles=$([ $kind = aug ] && echo /tmp/styles-aug || echo $D/styles-train)
  timeout 330 python3 -m studio.train.pretrain --content $D/content-distill --styles $styles --use-case image \
    --photo-iterations 0 --start studio/weights/init-image.safetensors --style-iterations ${ITERATIONS:-1500} \
    -o $R/init-$kind.safetensors > $R/pretrain-$kind.log 2>&1 &
done
wait; tail -2 $R/pretrain-*.log
explore_bench start image "studio:label=shipped" "studio:start=$R/init-plain.safetensors,label=plain" \
  "studio:start=$R/init-aug.safetensors,label=aug"
rm -f $R/init-*.safetensors
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

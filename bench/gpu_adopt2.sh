#!/usr/bin/env bash
# Eighth round of issue 14, second call (device tool; a record): the single presets retrained with the default
# recipe (now with the sliced Wasserstein term), the use cases side by side, 500 iterations each in one bank: image
# from the shipped image start, video from the video start re-made by bench/gpu_adopt1.sh (in
# studio/weights/init-video.safetensors). Needs carried .gpu/data/content and .gpu/vgg.
# The models come back as tar parts in $OUT:  cat results.tar.part-* | tar xf -
source bench/gpu_prelude.sh
touch /tmp/train-start
for uc in image video; do
  timeout 575 python3 presets/train.py --content $D/content --use-case $uc --no-multi 2>&1 | grep -v Warning \
    > $R/presets-$uc.log &
done
wait; tail -3 $R/presets-*.log
find presets -name '*.safetensors' -newer /tmp/train-start | sort > $R/new-models.txt; cat $R/new-models.txt
mkdir -p $R/models && cp --parents $(cat $R/new-models.txt) $R/models/
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

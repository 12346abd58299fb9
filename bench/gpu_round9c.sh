#!/usr/bin/env bash
# Ninth round of issue 14, third call (device tool; a record): the video presets retrained with the stability
# weight at 150 (the default now), from the shipped video start: the eleven single presets (500 iterations, one
# bank) and the all-presets video model (3,000 iterations, batch 16, as shipped), side by side.
# Needs carried .gpu/data/content, .gpu/vgg and .gpu/whl (tqdm). Models come back as tar parts in $OUT.
source bench/gpu_prelude.sh
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
touch /tmp/train-start
timeout 560 python3 presets/train.py --content $D/content --use-case video --no-single --multi-iterations 3000 \
  2>&1 | grep -v Warning > $R/presets-video-all.log &
timeout 560 python3 presets/train.py --content $D/content --use-case video --no-multi 2>&1 | grep -v Warning \
  > $R/presets-video.log
wait; tail -n 2 $R/presets-video*.log
find presets -name '*.safetensors' -newer /tmp/train-start | sort > $R/new-models.txt; cat $R/new-models.txt
mkdir -p $R/models && cp --parents $(cat $R/new-models.txt) $R/models/
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Eleventh round of issue 14 (device tool; a record): the presets retrained with the structure term (the tenth
# round's default): for USE_CASE (image or video), the eleven single presets (500 iterations, one bank) and the
# all-presets model (as shipped: 2,000 iterations for image, 3,000 for video, batch 16), side by side, from the
# shipped start. One call a use case (both together do not fit one call's 600 s).
# Needs carried .gpu/data/content, .gpu/vgg and .gpu/whl (tqdm). Models come back as tar parts in $OUT.
source bench/gpu_prelude.sh
UC=${USE_CASE:?image or video}
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
touch /tmp/train-start
S=$(date +%s)
(timeout 540 python3 presets/train.py --content $D/content --use-case $UC --no-single 2>&1 | grep -v Warning \
  > $R/presets-$UC-all.log; echo "all-presets $UC: $(( $(date +%s) - S )) s") &
timeout 540 python3 presets/train.py --content $D/content --use-case $UC --no-multi 2>&1 | grep -v Warning \
  > $R/presets-$UC.log
echo "single $UC presets: $(( $(date +%s) - S )) s"
wait; tail -n 3 $R/presets-$UC*.log
find presets -name '*.safetensors' -newer /tmp/train-start | sort > $R/new-models.txt; cat $R/new-models.txt
mkdir -p $R/models && cp --parents $(cat $R/new-models.txt) $R/models/
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

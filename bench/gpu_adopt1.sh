#!/usr/bin/env bash
# Eighth round of issue 14, first call (device tool; a record): the sliced Wasserstein term adopted (its directions
# drawn from the run's generator, LossRecipe.sliced_weight = 2 by default).
# 1. (background) the video start re-made with the default recipe (now with the term): stage 2 of
#    studio.train.pretrain continued from the shipped video start, 3,000 iterations;
# 2. meanwhile the eleven image presets (500 iterations, one bank) and the all-presets image model (1,000
#    iterations, as shipped) retrained from the shipped image start;
# 3. then, on the quiet GPU, `studio train` (the real command, image, 100 iterations) timed three times with a
#    bytecode cache, and its phases once (bench/train_latency.py).
# Needs carried .gpu/data/{content,styles-train}, .gpu/vgg and .gpu/whl (tqdm). Models and logs come back as tar
# parts in $OUT:  cat results.tar.part-* | tar xf -
source bench/gpu_prelude.sh
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
export PYTHONPYCACHEPREFIX=/tmp/pyc
touch /tmp/train-start
python3 -m studio.train.pretrain --content $D/content --styles $D/styles-train --use-case video \
  --photo-iterations 0 --start studio/weights/init-video.safetensors --style-iterations ${ITERATIONS:-3000} \
  -o $R/init-video.safetensors > $R/pretrain-video.log 2>&1 &
PID=$!
S=$(date +%s)
timeout 330 python3 presets/train.py --content $D/content --use-case image --no-multi 2>&1 | grep -v Warning \
  | tee $R/presets-image.log
timeout 200 python3 presets/train.py --content $D/content --use-case image --no-single --multi-iterations 1000 \
  2>&1 | grep -v Warning | tee -a $R/presets-image.log
echo "image presets: $(( $(date +%s) - S )) s"
wait $PID; tail -3 $R/pretrain-video.log; echo "video start: $(( $(date +%s) - S )) s"
STYLE=presets/swirling-sky/style.jpg
LEFT=$(( ${BUDGET:-580} - ($(date +%s) - T0) ))
if [ $LEFT -gt 45 ]; then
  for i in 1 2 3; do
    S=$(date +%s.%N); python3 -m studio train $STYLE -o /tmp/m$i.safetensors > $R/cli$i.log 2>&1
    rc=$?; echo "studio train, run $i: $(python3 -c "import time; print(round(time.time() - $S, 2))") s (rc $rc)"
  done 2>&1 | tee $R/cli.log
fi
LEFT=$(( ${BUDGET:-580} - ($(date +%s) - T0) ))
[ $LEFT -gt 25 ] && timeout $((LEFT - 10)) python3 bench/train_latency.py $STYLE --iterations 100 2>&1 \
  | tee $R/latency.log | tail -12
find presets -name '*.safetensors' -newer /tmp/train-start | sort > $R/new-models.txt; cat $R/new-models.txt
mkdir -p $R/models && cp --parents $(cat $R/new-models.txt) $R/models/
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

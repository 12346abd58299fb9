#!/usr/bin/env bash
# Eighth round of issue 14, third call (device tool; a record):
# 1. `studio train` (the real command, 100 iterations) with a bytecode cache as an install has it
#    (PYTHONDONTWRITEBYTECODE unset, PYTHONPYCACHEPREFIX): the first run compiles, then three image runs and
#    one video run, on the quiet GPU;
# 2. (background) the all-presets video model, 3,000 iterations at batch 16 (as shipped), from the re-made start;
# 3. meanwhile the quality bench on the 12 explore paintings x 14 photos, 100 iterations, strength 5: the video
#    use case from the re-made start and from the previous one (carried in .gpu/init), then the image use case.
# Needs carried .gpu/data/{content,photos,faces,styles-bench}, .gpu/vgg, .gpu/whl (tqdm) and .gpu/init.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-430}
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
unset PYTHONDONTWRITEBYTECODE; export PYTHONPYCACHEPREFIX=/tmp/pyc
STYLE=presets/swirling-sky/style.jpg
for i in 0 1 2 3; do
  S=$(date +%s.%N); python3 -m studio train $STYLE -o /tmp/m$i.safetensors > $R/cli$i.log 2>&1
  rc=$?; echo "studio train (image), run $i: $(python3 -c "import time; print(round(time.time() - $S, 2))") s (rc $rc)"
done 2>&1 | tee $R/cli.log
S=$(date +%s.%N); python3 -m studio train $STYLE --use-case video -o /tmp/v.safetensors > $R/cli-video.log 2>&1
echo "studio train (video): $(python3 -c "import time; print(round(time.time() - $S, 2))") s (rc $?)" | tee -a $R/cli.log
grep -h "about" $R/cli1.log $R/cli-video.log | head -2
touch /tmp/train-start
timeout 380 python3 presets/train.py --content $D/content --use-case video --no-single --multi-iterations 3000 \
  2>&1 | grep -v Warning > $R/presets-video-all.log &
PID=$!
explore_bench video video "studio:label=video-new-start" "studio:start=../.gpu/init/init-video-old.safetensors,label=video-old-start"
explore_bench image image "studio:label=image-default"
wait $PID; tail -n 2 $R/presets-video-all.log
find presets -name '*.safetensors' -newer /tmp/train-start | sort > $R/new-models.txt; cat $R/new-models.txt
mkdir -p $R/models && cp --parents $(cat $R/new-models.txt) $R/models/
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

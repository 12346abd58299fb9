#!/usr/bin/env bash
# Eleventh round of issue 14, fourth call (device tool; a record): (1) what the structure term costs `studio
# train`'s start: bench/train_latency.py without and with it, alternating, in one call; (2) the all-presets image
# model at 3,000 iterations (with the term, 2,000 left woodcut's SSIM 0.163 under its own model's on one photo:
# bench/blend_check.py on the CPU).
# Needs carried .gpu/data/{content,styles-bench}, .gpu/vgg and .gpu/whl (tqdm). The model comes back as tar parts.
source bench/gpu_prelude.sh
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl 2>/dev/null
export PYTHONPATH=/tmp/site:$PWD PYTHONPYCACHEPREFIX=/tmp/pyc
for w in 0 1.11 0 1.11; do
  echo "== structure_weight=$w"
  python3 bench/train_latency.py $D/styles-bench/la_muse.jpg --iterations 100 --recipe structure_weight=$w 2>&1 \
    | grep "steady\|first report\|torch\|total"
done 2>&1 | tee $R/latency-ab.log
touch /tmp/train-start
timeout 420 python3 presets/train.py --content $D/content --use-case image --no-single --multi-iterations 3000 \
  2>&1 | grep -v Warning > $R/presets-image-all-3000.log; tail -n 2 $R/presets-image-all-3000.log
mkdir -p $R/models3000 && cp presets/all-image.safetensors $R/models3000/
tar cf - -C /tmp res/latency-ab.log res/presets-image-all-3000.log res/models3000 | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

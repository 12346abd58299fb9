#!/usr/bin/env bash
# Twelfth round of issue 14, third call (device tool; a record): `studio train`'s time with the bytecode cache
# working. The lent machine's Python sets PYTHONDONTWRITEBYTECODE, so a run writes no bytecode and the next compiles
# torch's sources again: round eleven's 13-14 s (bench/gpu_round11b.sh set PYTHONPYCACHEPREFIX but kept that
# variable; gpu_round12b.sh's profile shows 1,843 modules compiled, 6.1 s, in the second run). As round eight
# (bench/gpu_adopt3.sh): the variable unset, one run to fill the cache, then the command three times a use case.
# Needs carried .gpu/data/styles-bench, .gpu/vgg and .gpu/whl (tqdm).
source bench/gpu_prelude.sh
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl 2>/dev/null
python3 -c "import os; print('before:', {k: v for k, v in os.environ.items() if k.startswith('PYTHON')})" | tee $R/env.log
unset PYTHONDONTWRITEBYTECODE; export PYTHONPATH=/tmp/site:$PWD PYTHONPYCACHEPREFIX=/tmp/pyc
STYLE=$D/styles-bench/la_muse.jpg
S=$(date +%s.%N); python3 -m studio train $STYLE -o /tmp/m0.safetensors > $R/cli0.log 2>&1
echo "studio train, first run (compiling): $(python3 -c "import time; print(round(time.time() - $S, 2))") s" | tee $R/cli-times.log
for uc in image video; do
  for i in 1 2 3; do
    S=$(date +%s.%N); python3 -m studio train $STYLE --use-case $uc -o /tmp/m-$uc$i.safetensors > $R/cli-$uc$i.log 2>&1
    rc=$?; echo "studio train --use-case $uc, run $i: $(python3 -c "import time; print(round(time.time() - $S, 2))") s (rc $rc)"
  done
done 2>&1 | tee -a $R/cli-times.log
grep -i "about" $R/cli-image1.log $R/cli-video1.log | head -4 | tee -a $R/cli-times.log
python3 bench/train_latency.py $STYLE --iterations 100 2>&1 | tail -12 | tee $R/latency.log
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Fifteenth round of issue 14, first call (device tool; a record): the contextual term (Mechrez et al. 2018;
# LossRecipe.contextual_weight at relu3_1 and relu4_1), a nearest-neighbour statistic rather than a distribution
# one, at three weights and a sharper bandwidth, then the default in the same run. The 12 explore paintings x 14
# photos (6 portraits), 100 iterations, strength 5. Then test_gpu.py's CUDA-graph training with the term.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg, .gpu/whl and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-520}
explore_bench contextual image "studio:contextual_weight=0.25,label=cx025" "studio:contextual_weight=1,label=cx1" \
  "studio:contextual_weight=4,label=cx4" "studio:contextual_weight=1,contextual_bandwidth=0.1,label=cx1-h01" \
  "studio:label=default"
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl 2>/dev/null
PYTHONPATH=/tmp/site:$PWD timeout 60 python3 -m pytest -q -p no:cacheprovider -k contextual tests/test_gpu.py \
  2>&1 | tail -5 | tee $R/tests.log
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

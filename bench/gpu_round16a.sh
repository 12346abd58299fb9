#!/usr/bin/env bash
# Sixteenth round of issue 14, first call (device tool; a record): noise on the network's input while training
# (LossRecipe.input_noise; after Ulyanov et al. 2016's texture networks, which paint texture from noise), with the
# same noise on the photos when stylizing (infer_noise) or without, at pixel scale and drawn at 1/4 size. The 12
# explore paintings x 14 photos (6 portraits), 100 iterations, strength 5, the default in the same run. Then
# test_gpu.py's CUDA-graph training with the input noise and with the contrast term.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg, .gpu/whl and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-500}
explore_bench noise image "studio:label=default" "studio:input_noise=0.1,infer_noise=0.1,label=n10" \
  "studio:input_noise=0.1,input_noise_scale=4,infer_noise=0.1,label=n10s4" \
  "studio:input_noise=0.2,infer_noise=0.2,label=n20" "studio:input_noise=0.05,infer_noise=0.05,label=n05" \
  "studio:input_noise=0.1,label=n10-clean"
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl 2>/dev/null
PYTHONPATH=/tmp/site:$PWD timeout 60 python3 -m pytest -q -p no:cacheprovider -k "input_noise or contrast" \
  tests/test_gpu.py 2>&1 | tail -5 | tee $R/tests.log
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Fourteenth round of issue 14, third call (device tool; a record): the CUDA tests and the CLI's and model's tests on
# the lent H200 after this round's changes: the style loss now loops over style_scales (the default, full size only,
# must train as before, CUDA graph included; test_gpu.py also trains with 0/1). Needs carried .gpu/vgg and .gpu/whl
# (pytest, pluggy, iniconfig, tqdm).
source bench/gpu_prelude.sh
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl 2>/dev/null
unset PYTHONDONTWRITEBYTECODE; export PYTHONPATH=/tmp/site:$PWD PYTHONPYCACHEPREFIX=/tmp/pyc
timeout 400 python3 -m pytest -q -p no:cacheprovider -rs tests/test_gpu.py tests/test_model.py tests/test_cli.py \
  2>&1 | tail -25 | tee $R/tests.log

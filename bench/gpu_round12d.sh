#!/usr/bin/env bash
# Twelfth round of issue 14, fourth call (device tool; a record): the CUDA tests and the CLI's and model's tests on
# the lent H200 after this round's changes. Needs carried .gpu/vgg and .gpu/whl (pytest, pluggy, iniconfig, tqdm).
source bench/gpu_prelude.sh
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl 2>/dev/null
unset PYTHONDONTWRITEBYTECODE; export PYTHONPATH=/tmp/site:$PWD PYTHONPYCACHEPREFIX=/tmp/pyc
timeout 400 python3 -m pytest -q -p no:cacheprovider -rs tests/test_gpu.py tests/test_model.py tests/test_cli.py \
  2>&1 | tail -25 | tee $R/tests.log

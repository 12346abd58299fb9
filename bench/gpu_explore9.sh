#!/usr/bin/env bash
# Ninth exploration call (device tool; a record), seventh round of issue 14:
# 1. (background) the video start re-made with today's recipe: stage 2 of studio.train.pretrain continued from the
#    shipped video start for 3,000 iterations on the training paintings (round five's re-made one lost woodcut);
# 2. the sliced Wasserstein term (LossRecipe.sliced_weight, Heitz et al. 2021) beside means and covariance, three
#    weights, against the default at strengths 5 and 8, on the 12 explore paintings x 14 photos, 100 iterations;
# 3. the video use case from the shipped and the re-made video start on the same paintings (strength 5).
# Needs carried .gpu/data/{content,styles-train,photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
python3 -m studio.train.pretrain --content $D/content --styles $D/styles-train --use-case video \
  --photo-iterations 0 --start studio/weights/init-video.safetensors --style-iterations ${ITERATIONS:-3000} \
  -o $R/init-video.safetensors > $R/pretrain-video.log 2>&1 &
PID=$!
explore_bench sliced image "studio:strengths=5/8,label=base" "studio:sliced_weight=1,label=sw1" \
  "studio:sliced_weight=4,label=sw4" "studio:sliced_weight=16,label=sw16"
wait $PID; tail -3 $R/pretrain-video.log
explore_bench video video "studio:label=video-shipped" "studio:start=$R/init-video.safetensors,label=video-new"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

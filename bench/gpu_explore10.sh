#!/usr/bin/env bash
# Tenth exploration call (device tool; a record), seventh round of issue 14: the starts re-made with the sliced
# Wasserstein term (LossRecipe.sliced_weight=2, output positions capped at 16 K a layer):
# 1. (background) the image start: stage 2 continued from the shipped image start, 3,000 iterations;
# 2. (background) the video start: stage 2 continued from the one bench/gpu_explore9.sh re-made (carried in
#    .gpu/init/init-video-mc.safetensors), 3,000 more iterations;
# 3. meanwhile, sliced weight 2 from the shipped image start on the 12 explore paintings x 14 photos, 100 iterations;
# 4. then each new start against it (image: strength 5; video: the meancov start without and with the term).
# Needs carried .gpu/data/{content,styles-train,photos,faces,styles-bench}, .gpu/vgg, .gpu/init and .bench-site.
source bench/gpu_prelude.sh
SW=sliced_weight=${SW:-2}
python3 -m studio.train.pretrain --content $D/content --styles $D/styles-train --use-case image --recipe $SW \
  --photo-iterations 0 --start studio/weights/init-image.safetensors --style-iterations ${ITERATIONS:-3000} \
  -o $R/init-image.safetensors > $R/pretrain-image.log 2>&1 &
PID_image=$!
python3 -m studio.train.pretrain --content $D/content --styles $D/styles-train --use-case video --recipe $SW \
  --photo-iterations 0 --start .gpu/init/init-video-mc.safetensors --style-iterations ${ITERATIONS:-3000} \
  -o $R/init-video.safetensors > $R/pretrain-video.log 2>&1 &
PID_video=$!
explore_bench old image "studio:$SW,label=sw2-shipped-start"
wait $PID_video; tail -2 $R/pretrain-video.log
explore_bench video video "studio:start=../.gpu/init/init-video-mc.safetensors,$SW,label=video-mc-start-sw2" \
  "studio:start=$R/init-video.safetensors,$SW,label=video-sw-start-sw2"
wait $PID_image; tail -2 $R/pretrain-image.log
explore_bench new image "studio:start=$R/init-image.safetensors,$SW,label=sw2-sw-start"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

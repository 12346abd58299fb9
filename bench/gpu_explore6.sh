#!/usr/bin/env bash
# Sixth exploration call (device tool; a record): the pre-trained starts re-made with today's recipe (style at
# relu1_1..relu4_1, means and covariance, the gentle fine-tune). Stage 2 of studio.train.pretrain continues from the
# shipped starts on the training paintings; the image start is then compared with the shipped one at strengths
# 5 and 10 on the 12 explore paintings. The new starts come back in $OUT for the presets' retraining.
# Needs carried .gpu/data/{content-half,styles-train,photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
EXPLORE=$(ls $D/styles-bench/*.jpg | awk 'NR%3==1' | sed 's|^|../|')
for uc in image video; do
  python3 -m studio.train.pretrain --content $D/content-half --styles $D/styles-train --use-case $uc \
    --photo-iterations 0 --start studio/weights/init-$uc.safetensors --style-iterations ${ITERATIONS:-3000} \
    -o $R/init-$uc.safetensors > $R/pretrain-$uc.log 2>&1 &
  eval "PID_$uc=$!"
done
bench() {  # label, then variants
  local label=$1; shift
  local left=$(( ${BUDGET:-565} - ($(date +%s) - T0) ))
  (cd bench && timeout $((left - 20)) python3 quality.py --styles $EXPLORE --photos ../$D/photos --faces ../$D/faces \
    --out $R/sheets-$label --threads 14 --iterations 200 --bank 24 --no-lite --deadline $((left - 35)) --variants "$@" \
    2>&1 | tee $R/explore-$label.log | grep -v "^{")
}
bench base "studio:strengths=5/10,label=base"
wait $PID_image; tail -3 $R/pretrain-image.log
bench new "studio:start=$R/init-image.safetensors,strengths=5/10,label=start6"
wait $PID_video; tail -3 $R/pretrain-video.log
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

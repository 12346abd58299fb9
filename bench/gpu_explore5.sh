#!/usr/bin/env bash
# Fifth exploration call (device tool; a record): against the flat, posterized patches at strengths 5-10, the
# style statistics at the layers after each pooling (relu1_1..relu4_1, as in AdaIN/WCT), content at relu3_3,
# and a lighter first style layer, each at strengths 5 and 10 beside the default, on the 12 explore paintings.
# Needs carried .gpu/data/{content,photos,faces,styles-bench}, .gpu/vgg and .bench-site. Results go to $OUT.
source bench/gpu_prelude.sh
EXPLORE=$(ls $D/styles-bench/*.jpg | awk 'NR%3==1' | sed 's|^|../|')
LEFT=$(( ${BUDGET:-565} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 15)) python3 quality.py --styles $EXPLORE --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 14 --iterations 200 --bank 24 --no-lite --deadline $((LEFT - 30)) --variants \
  "studio:strengths=5/10,label=base" \
  "studio:style_layers=relu1_1/relu2_1/relu3_1/relu4_1,strengths=5/10,label=L41" \
  "studio:content_layer=relu3_3,strengths=5/10,label=c33" \
  "studio:style_layer_weights=0.25/1/1/1,strengths=5/10,label=w1q" \
  2>&1 | tee $R/explore.log | grep -v "^{")
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

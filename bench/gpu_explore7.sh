#!/usr/bin/env bash
# Seventh exploration call (device tool; a record): against the flat, posterized patches on skies and plain
# backgrounds, the style statistics matched per tile of a 2x2 or 3x3 grid (LossRecipe.style_grid) rather than
# once per crop; the default's ceiling at 400 iterations; Adam at 1e-3. 12 explore paintings, strength 5 (and
# 10 for the grid). Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
EXPLORE=$(ls $D/styles-bench/*.jpg | awk 'NR%3==1' | sed 's|^|../|')
LEFT=$(( ${BUDGET:-565} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 15)) python3 quality.py --styles $EXPLORE --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 14 --iterations 200 --bank 24 --no-lite --deadline $((LEFT - 30)) --variants \
  "studio:style_grid=2,strengths=5/10,label=grid2" \
  "studio:iterations=400,snapshots=200/400,label=base" \
  "studio:style_grid=3,label=grid3" \
  "studio:learning_rate=0.001,label=lr1e-3" \
  2>&1 | tee $R/explore.log | grep -v "^{")
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

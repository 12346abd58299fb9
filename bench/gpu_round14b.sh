#!/usr/bin/env bash
# Fourteenth round of issue 14, second call (device tool; a record): the first call's style_scales=0/1 rose the style
# similarity on the 12 explore paintings at strength 5 (0.910 against 0.896) and cost SSIM (0.483 against 0.569). Is
# that a better trade than the strength's own, and does it lift the ceiling the strength reaches (about 0.905 on
# held-out paintings)? The default at strength 10, style_scales=0/1 at strengths 3 and 10; same paintings, photos,
# iterations and seeds as gpu_round14a.sh.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-565}
explore_bench scales-strengths image "studio:strengths=10,label=default" \
  "studio:style_scales=0/1,strengths=3/10,label=scales01"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Tenth round of issue 14, first call (device tool; a record): the style gap at the default strength. Training
# crops are 256 px of photos pooled at 320 px, but photos are stylized at 512 px (the bench) or larger (users):
# do larger training crops carry more of the style to full-size photos? And the style image's scale (density
# 384 and 512 scored +0.013 and +0.019 of style in the third round, before the sliced term). The 12 explore
# paintings x 14 photos (6 portraits), 100 iterations, strength 5 (the default: 0.902 / 0.489 in round eight).
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-570}
explore_bench scale image "studio:label=default" "studio:crop=384,label=crop384" "studio:density=384,label=d384" \
  "studio:density=512,label=d512" "studio:crop=384,density=384,label=crop384-d384" "studio:crop=512,label=crop512"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

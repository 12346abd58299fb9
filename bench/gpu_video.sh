#!/usr/bin/env bash
# Video files on the GPU machine: cutBunny through studio.infer.video (frame engine: fp16, compiled, CUDA graphs,
# batches of 8), per frame and stabilized, timed end to end (decode + stylize + encode). Carried (ignored):
# .gpu/av (the PyAV wheel), .gpu/photo/cutBunny.mp4; opencv is on the device image.
set -u
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/av/*.whl \
  && export PYTHONPATH=/tmp/site:$PWD || exit 1
python3 - <<'PY'
import time
import torch
from studio.presets import preset
from studio.infer.video import probe, stylize_video
src = ".gpu/photo/cutBunny.mp4"
info = probe(src)
print(torch.cuda.get_device_name(), info)
print("| model | size | stabilize | seconds | fps | audio |")
print("| --- | --- | --- | --- | --- | --- |")
for use_case in ("video", "image"):
    model = preset("swirling-sky").load(use_case, device="cuda")
    for max_size, stab in ((None, False), (None, 0.5), (1920, False)):
        out = f"/tmp/out-{use_case}-{max_size}-{stab}.mp4"
        t = time.perf_counter()
        stylize_video(model, src, out, max_size=max_size, stabilize=stab)
        s = time.perf_counter() - t
        o = probe(out)
        print(f"| {use_case} | {o.width}x{o.height} | {stab or 'off'} | {s:.1f} | {o.frames / s:.0f} | {o.audio} |")
PY

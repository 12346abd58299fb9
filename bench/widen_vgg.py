"""Widen the carried fp16 loss network to the fp32 file the studio caches (GPU runs through the device tool).

    python3 bench/widen_vgg.py [SRC] [CACHE_DIR]

The carry to the GPU machine is limited, so the GPU scripts carry ``.gpu/vgg/vgg16-hed-relu4_3.fp16.safetensors``
(half the size) and write ``CACHE_DIR/vgg16-hed-relu4_3.safetensors`` (point ``STUDIO_CACHE`` at CACHE_DIR).
"""

from __future__ import annotations

import sys
from pathlib import Path

from safetensors.torch import load_file, save_file

src = Path(sys.argv[1] if len(sys.argv) > 1 else ".gpu/vgg/vgg16-hed-relu4_3.fp16.safetensors")
cache = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/cache")
cache.mkdir(parents=True, exist_ok=True)
save_file({k: v.float() for k, v in load_file(src).items()}, cache / "vgg16-hed-relu4_3.safetensors")

#!/usr/bin/env bash
# Makes the ignored folders bench/gpu_ui.sh carries to the GPU machine (no network there, Python 3.12, a
# fixed package set), reproducibly from PyPI and the local loss-network cache:
#   .gpu/uiwhl  what that machine lacks for the studio's UI (app.py, bench/ui_session.py, tests/test_ui.py):
#               cp312 manylinux wheels at constraints.txt's versions, downloaded with --no-deps; gradio is
#               repacked WITHOUT its browser bundle (templates/frontend/{assets,static}, templates/node,
#               media_assets samples; RECORD rewritten) since the check only drives the API. Not included:
#               what the machine has (torch, numpy, pandas, pillow, onnx*, huggingface-hub, httpx, anyio,
#               jinja2, typer, click, h11, annotated-doc, python-dateutil, ...), av and coremltools (Video
#               tab and Core ML not exercised), pillow-heif (imported lazily, optional).
#   .gpu/vgg    vgg16-hed-relu4_3.fp16.safetensors: the cached fp32 loss network cast to fp16 (half the
#               carry; bench/widen_vgg.py widens it back into $STUDIO_CACHE on the device).
#
#   bash bench/gpu_ui_wheels.sh                      # PYVER=3.12 DEST=.gpu/uiwhl VGG=1
#   PYVER=3.11 DEST=/tmp/uiwhl-cp311 VGG=0 bash bench/gpu_ui_wheels.sh   # the same set for a CPU rehearsal
set -euo pipefail
cd "$(dirname "$0")/.."
PYVER=${PYVER:-3.12}
ABI=cp${PYVER/./}
DEST=${DEST:-.gpu/uiwhl}
PY=${PY:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
# gradio's, gradio_client's, fastapi's, pydantic's and the studio's requirements minus the device's packages
PACKAGES="gradio gradio_client hf-gradio fastapi starlette uvicorn pydantic pydantic_core annotated-types
  typing-inspection opentelemetry-api python-multipart orjson brotli pydub semantic-version tomlkit safehttpx
  groovy pytz diskcache"

pin() { # the exact version constraints.txt gives (names compared normalized)
  local want
  want=$(echo "$1" | tr 'A-Z_.' 'a-z--')
  awk -F'==' -v w="$want" '!/^#/ && NF == 2 { n = tolower($1); gsub(/[_.]/, "-", n); if (n == w) print $2 }' \
    constraints.txt
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for p in $PACKAGES; do
  v=$(pin "$p")
  [ -n "$v" ] || { echo "no version for $p in constraints.txt" >&2; exit 1; }
  "$PY" -m pip download -q --disable-pip-version-check --only-binary=:all: --python-version "$PYVER" \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
    --implementation cp --abi "$ABI" --no-deps --dest "$TMP/dl" "$p==$v" 2>&1 | grep -v "is ignored: it is neither" || true
done
[ "$(ls "$TMP/dl"/*.whl | wc -l)" -eq "$(echo $PACKAGES | wc -w)" ] || { echo "a wheel is missing" >&2; exit 1; }

# gradio without the browser bundle, repacked as a valid wheel (entries kept as they were, RECORD recomputed)
"$PY" - "$TMP"/dl/gradio-*.whl <<'PY'
import base64, hashlib, sys, zipfile
src = sys.argv[1]
strip = ("gradio/templates/frontend/assets/", "gradio/templates/frontend/static/", "gradio/templates/node/",
         "gradio/media_assets/audio/", "gradio/media_assets/videos/", "gradio/media_assets/images/",
         "gradio/media_assets/models3d/")
with zipfile.ZipFile(src) as z:
    infos = [i for i in z.infolist() if not i.filename.startswith(strip)]
    record = next(i for i in infos if i.filename.endswith(".dist-info/RECORD"))
    data = {i.filename: z.read(i) for i in infos if i is not record}
lines = []
for name, body in data.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
    lines.append(f"{name},sha256={digest},{len(body)}")
lines.append(f"{record.filename},,")
with zipfile.ZipFile(src + ".new", "w", zipfile.ZIP_DEFLATED) as out:
    for i in infos:
        body = "\n".join(lines).encode() + b"\n" if i is record else data[i.filename]
        i.compress_type = zipfile.ZIP_DEFLATED
        out.writestr(i, body)
print(f"gradio: kept {len(infos)} of {len(zipfile.ZipFile(src).infolist())} entries")
PY
mv "$TMP"/dl/gradio-*.whl.new "$(ls "$TMP"/dl/gradio-*.whl)"

for w in "$TMP"/dl/*.whl; do unzip -tq "$w" >/dev/null || { echo "bad zip: $w" >&2; exit 1; }; done
rm -rf "$DEST"
mkdir -p "$DEST"
mv "$TMP"/dl/*.whl "$DEST"/
ls -l "$DEST" | awk 'NR > 1 { printf "%8.1f KiB  %s\n", $5 / 1024, $9 }'
echo "$DEST: $(ls "$DEST"/*.whl | wc -l) wheels, $(du -cb "$DEST"/*.whl | tail -1 | awk '{ printf "%.1f MiB", $1 / 2^20 }')"

if [ "${VGG:-1}" = 1 ]; then
  SRC=${STUDIO_CACHE:-$HOME/.cache/style-studio}/vgg16-hed-relu4_3.safetensors
  mkdir -p .gpu/vgg
  "$PY" - "$SRC" .gpu/vgg/vgg16-hed-relu4_3.fp16.safetensors <<'PY'
import sys
from safetensors import safe_open
from safetensors.torch import load_file, save_file
src, dst = sys.argv[1:]
with safe_open(src, "pt") as f:
    meta = f.metadata()
save_file({k: v.half() for k, v in load_file(src).items()}, dst, metadata=meta)
PY
  echo ".gpu/vgg: $(du -b .gpu/vgg/vgg16-hed-relu4_3.fp16.safetensors | awk '{ printf "%.1f MiB", $1 / 2^20 }') (from $SRC)"
fi

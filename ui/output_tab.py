"""Output: the model card of a trained model and its downloads (.safetensors, .mlpackage zipped, .mlmodel,
.onnx)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from .common import user_errors
from .store import ModelStore

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


def export(store: ModelStore, sid: str | None, key: str | None, fmt: str) -> str:
    if not key:
        raise gr.Error("Train a model first (Train tab).")
    if fmt not in FORMATS:
        raise gr.Error(f"unknown format {fmt!r}")
    folder = Path(tempfile.mkdtemp(prefix="studio-export-"))
    with user_errors():
        model = store.load(sid, key, device="cpu")
        stem = "-".join(model.style_names)[:60] or "style"
        suffix = FORMATS[fmt]
        if suffix == ".safetensors":
            return str(model.save(folder / f"{stem}.safetensors"))
        if suffix == ".onnx":
            return str(model.export_onnx(folder / f"{stem}.onnx"))
        path = model.export_coreml(folder / f"{stem}{suffix}")
    if path.is_dir():  # an .mlpackage is a folder: ship it zipped
        return shutil.make_archive(str(path), "zip", root_dir=path.parent, base_dir=path.name)
    return str(path)


def build(store: ModelStore, session: Any, models: Any) -> None:
    with gr.Tab("Output", id="output"):
        models.render()
        summary = gr.Markdown(card(store, None, None), elem_id="output-card")
        fmt = gr.Radio(list(FORMATS), value="safetensors", label="Format")
        go = gr.Button("Download", variant="primary", elem_id="output-go")
        file = gr.File(label="Model file", elem_id="output-file")
    models.change(lambda sid, key: card(store, sid, key), [session, models], summary, api_name="model_card")
    go.click(lambda sid, key, f: export(store, sid, key, f), [session, models, fmt], file, api_name="download")

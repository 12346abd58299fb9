"""Assemble the studio: one tab per step, each given the engine functions it calls."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable

import gradio as gr

import studio
from studio.presets import load_spec

from . import output_tab, preview_tab, styles_tab, train_tab
from .store import ModelStore


class _Models:
    """Preset models, loaded once per process and shared (they are read-only); one stylize at a time per
    model, because tiled stylizing records normalisation statistics on the model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str], tuple[studio.StyleModel, threading.Lock]] = {}

    def get(self, spec: str, use_case: str) -> tuple[studio.StyleModel, Callable[..., object]]:
        with self._lock:
            if (spec, use_case) not in self._models:
                self._models[(spec, use_case)] = (load_spec(spec, use_case), threading.Lock())
            model, lock = self._models[(spec, use_case)]

        def run(*args: object, **kwargs: object) -> object:
            with lock:
                return model.stylize(*args, **kwargs)

        return model, run


def build_app(store_dir: str | None = None) -> gr.Blocks:
    """The studio. ``store_dir``: where session models are kept (default ``$STUDIO_STORE`` or a temp folder)."""
    catalog = studio.presets()
    models = _Models()
    store = ModelStore(store_dir or os.environ.get("STUDIO_STORE") or tempfile.mkdtemp(prefix="studio-store-"))
    with gr.Blocks(title="Style Studio") as demo:
        gr.Markdown("# Style Studio\nTrain and use style-transfer models, offline, in your browser.")
        with gr.Tabs():
            styles_tab.build(catalog, studio.quicklook)
            shared = train_tab.build(store, studio.Trainer, studio.Trainer.resume)
            preview_tab.build(catalog, models.get)
            output_tab.build(store, shared["session"], shared["models"])
    return demo


def launch() -> None:
    """Serve on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT (default 0.0.0.0:7860)."""
    demo = build_app()
    demo.queue(default_concurrency_limit=2).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )

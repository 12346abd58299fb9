"""Train: style and content images, strength, density, use case, iterations; Train / Stop / Train more /
Snapshot, with the validation image and the loss curves streaming while it runs."""

from __future__ import annotations

import queue
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from studio import Progress, StudioError, TrainConfig, Trainer

from .common import user_errors
from .store import ModelStore

MIN_UPDATE_SECONDS = 0.4  # at most ~2.5 page updates a second; a GPU reports every 5 iterations, ~6 a second


@dataclass
class _Run:
    """What one browser session is training (at most one run at a time per session)."""

    trainer: Trainer
    session_dir: Path
    rows: list[dict[str, Any]] = field(default_factory=list)


def build(store: ModelStore, make_trainer: Callable[..., Trainer], resume: Callable[..., Trainer]) -> dict[str, Any]:
    """Returns the components other tabs listen to: the session id state and the models dropdown."""
    runs: dict[str, _Run] = {}
    workdir = Path(tempfile.mkdtemp(prefix="studio-sessions-"))

    with gr.Tab("Train", id="train"):
        session = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1):
                styles = gr.File(
                    label="Style image(s): one, or several for one multi-style model",
                    file_count="multiple",
                    file_types=["image", ".heic", ".heif"],
                    elem_id="train-styles",
                )
                content = gr.File(
                    label="Content photos, or zips of them (empty: the built-in set)",
                    file_count="multiple",
                    file_types=["image", ".heic", ".heif", ".zip"],
                    elem_id="train-content",
                )
                validation = gr.Image(type="filepath", label="Validation image (optional)", elem_id="train-val")
                strength = gr.Slider(1, 10, value=5, step=0.5, label="Style strength")
                density = gr.Slider(64, 1024, value=256, step=4, label="Style density")
                use_case = gr.Radio(["image", "video"], value="image", label="Use case", elem_id="train-usecase")
                iterations = gr.Slider(5, 5000, value=500, step=5, label="Iterations", elem_id="train-iterations")
                with gr.Row():
                    train_btn = gr.Button("Train", variant="primary", elem_id="train-go")
                    stop_btn = gr.Button("Stop", elem_id="train-stop")
                with gr.Row():
                    more_btn = gr.Button("Train more", elem_id="train-more")
                    snap_btn = gr.Button("Snapshot", elem_id="train-snapshot")
            with gr.Column(scale=2):
                status = gr.Markdown("Not trained yet.", elem_id="train-status")
                preview = gr.Image(label="Validation image", interactive=False, elem_id="train-preview")
                # Starts empty (None): a plot that starts from an empty frame draws no lines when updated.
                plot = gr.LinePlot(None, x="iteration", y="loss", color="kind", title="Losses", elem_id="train-plot")
                snap_label = gr.Textbox(visible=False)  # the API's answer: the snapshot's label
                snapshots = gr.Gallery(
                    label="Snapshots (validation image)", columns=4, height="auto", interactive=False
                )
    # allow_custom_value: the store itself refuses keys of other sessions, with a clear message
    models = gr.Dropdown(
        [], label="Your models", interactive=True, allow_custom_value=True, elem_id="output-models", render=False
    )

    def ensure(sid: str | None) -> str:
        return sid or store.new_session()

    def stream(sid: str, trainer: Trainer, run_dir: Path, label: str) -> Iterator[tuple[Any, ...]]:
        events: queue.Queue[Progress] = queue.Queue()
        result: list[Any] = []
        # a new model starts a fresh plot; training more continues the last one
        rows = runs[sid].rows if sid in runs and label != "model" else []
        run = runs[sid] = _Run(trainer, run_dir, rows)

        def work() -> None:
            try:
                result.append(trainer.run(events.put))
            except Exception as exc:  # reported to the user below  # noqa: BLE001
                result.append(exc)

        start = trainer.iteration  # > 0 when training more
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        image = None
        last_sent = 0.0
        while thread.is_alive() or not events.empty():
            try:
                batch = [events.get(timeout=0.25)]
            except queue.Empty:
                continue
            # A GPU reports faster than a page can take updates: send only the latest image and status, with
            # every loss point since the last update, so the page shows the current iteration, not a backlog.
            while not events.empty():
                batch.append(events.get_nowait())
            for p in batch:
                run.rows += [
                    {"iteration": p.iteration, "loss": p.style_loss, "kind": "style"},
                    {"iteration": p.iteration, "loss": p.content_loss, "kind": "content"},
                ]
                image = p.image or image
            if time.monotonic() - last_sent < MIN_UPDATE_SECONDS and thread.is_alive():
                continue  # the next update (or the final one) carries these points
            last_sent = time.monotonic()
            eta = p.elapsed / max(1, p.iteration - start) * (p.iterations - p.iteration)
            text = f"Iteration {p.iteration} of {p.iterations} · {p.elapsed:.0f} s · about {eta:.0f} s left" + _bar(
                p.iteration, p.iterations
            )
            yield sid, text, image, pd.DataFrame(run.rows), gr.update()
        thread.join()
        outcome = result[0] if result else StudioError("training stopped unexpectedly")
        if isinstance(outcome, StudioError):
            raise gr.Error(str(outcome))
        if isinstance(outcome, Exception):
            raise gr.Error(f"training failed: {outcome}")
        entry = store.put(sid, f"{label} ({outcome.config.iterations} iterations)", outcome)
        done = "stopped" if trainer.cancelled else "done"
        text = f"Training {done} at iteration {outcome.config.iterations}: **{entry.label}** is in Preview and Output."
        choices = [(e.label, e.key) for e in store.entries(sid)]
        yield sid, text, image, pd.DataFrame(run.rows), gr.update(choices=choices, value=entry.key)

    def train(
        sid: str | None,
        style_files: list[str] | None,
        content_files: list[str] | None,
        val: str | None,
        s: float,
        d: float,
        case: str,
        n: float,
    ) -> Iterator[tuple[Any, ...]]:
        sid = ensure(sid)
        if not style_files:
            raise gr.Error("Add at least one style image.")
        if sid in runs and runs[sid].trainer.running:
            raise gr.Error("A training run is already going in this session: stop it first.")
        run_dir = workdir / sid / f"run-{uuid.uuid4().hex[:8]}"  # each Train starts a new session folder
        with user_errors():
            config = TrainConfig(iterations=int(n), style_strength=float(s), style_density=int(d), use_case=case)
            trainer = make_trainer(
                list(style_files), list(content_files) if content_files else None, config, validation=val,
                session_dir=run_dir,
            )  # fmt: skip
        yield from stream(sid, trainer, run_dir, "model")

    def more(sid: str | None, n: float) -> Iterator[tuple[Any, ...]]:
        if not sid or sid not in runs:
            raise gr.Error("Train a model first, then train more.")
        if runs[sid].trainer.running:
            raise gr.Error("Training is still running.")
        with user_errors():
            trainer = resume(runs[sid].session_dir, int(n))
        yield from stream(sid, trainer, runs[sid].session_dir, "trained more")

    def stop(sid: str | None) -> str:
        if sid and sid in runs and runs[sid].trainer.running:
            runs[sid].trainer.cancel()
            return "Stopping at the next iteration…"
        return "Nothing is training."

    def snapshot(sid: str | None, shots: list[Any] | None) -> tuple[Any, list[Any], Any]:
        if not sid or sid not in runs:
            raise gr.Error("Start training first.")
        with user_errors():
            model = runs[sid].trainer.snapshot()
        entry = store.put(sid, f"snapshot at {model.config.iterations}", model)
        image = model.stylize(runs[sid].trainer.validation_image, max_size=256)
        choices = [(e.label, e.key) for e in store.entries(sid)]
        return gr.update(choices=choices), [*(shots or []), (image, entry.label)], entry.label

    outputs = [session, status, preview, plot, models]
    inputs = [session, styles, content, validation, strength, density, use_case, iterations]
    # One training at a time (one GPU); the others wait in the queue, which shows each its position.
    trained = train_btn.click(train, inputs, outputs, api_name="train", concurrency_limit=1, concurrency_id="training")
    more_ev = more_btn.click(more, [session, iterations], outputs, api_name="train_more", concurrency_limit=1,
                             concurrency_id="training")  # fmt: skip
    stop_btn.click(stop, session, status, api_name="stop", queue=False)
    snapped = snap_btn.click(snapshot, [session, snapshots], [models, snapshots, snap_label], api_name="snapshot")
    return {"session": session, "models": models, "stored": [trained, more_ev, snapped]}


def _bar(done: int, total: int) -> str:
    """A progress bar under the status line (Markdown keeps the HTML <progress> element)."""
    return f'\n\n<progress value="{done}" max="{max(1, total)}" style="width:100%"></progress>'

"""Train: style and content images, strength, density, use case, iterations; Train / Stop / Train more /
Snapshot, with the validation image and the loss curves streaming while it runs."""

from __future__ import annotations

import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
import torch

from studio import Progress, StudioError, TrainConfig, Trainer, default_use_case, describe_seconds
from studio.limits import Limits
from studio.session import checkpoint_state

from .common import image_path, user_errors
from .gpu import on_gpu
from .store import ModelStore

MIN_UPDATE_SECONDS = 0.4  # at most ~2.5 page updates a second; a GPU reports every 5 iterations, ~6 a second
STORAGE_KEY = "style-studio-session"  # the browser's localStorage entry holding the session id
FINISHED = "finished"  # marker file in a run folder whose model was stored
_SESSION_ID = re.compile(r"[0-9a-f]{32}")  # ModelStore.new_session()'s ids; anything else names no folder


@dataclass
class _Run:
    """What one browser session is training (at most one run at a time per session)."""

    trainer: Trainer
    session_dir: Path
    rows: list[dict[str, Any]] = field(default_factory=list)


def build(
    store: ModelStore,
    make_trainer: Callable[..., Trainer],
    resume: Callable[..., Trainer],
    workdir: Path,
    bounds: Limits,
) -> dict[str, Any]:
    """Returns the components other tabs listen to: the session id state and the models dropdown.

    Training runs keep their checkpoints under ``workdir/<session>/run-*``, so a studio killed mid-training
    offers to resume the run when the same browser comes back (the session id is also kept in the
    browser's localStorage; like the State, it is a random 128-bit id that only its holder knows).
    """
    runs: dict[str, _Run] = {}
    workdir.mkdir(parents=True, exist_ok=True)
    checkpoint_every = bounds.checkpoint_interval

    with gr.Tab("Train", id="train"):
        session = gr.State(None)
        # The browser's copy of the session id (its localStorage): restores the session after a reload or a
        # studio restart. A hidden box carries it from the page's script to the load handler.
        saved = gr.Textbox(visible=False)
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
                validation = image_path(label="Validation image (optional)", elem_id="train-val")
                strength = gr.Slider(1, 10, value=5, step=0.5, label="Style strength")
                density = gr.Slider(64, 1024, value=256, step=4, label="Style density")
                use_case = gr.Radio(["image", "video"], value=default_use_case(), label="Use case",
                                    elem_id="train-usecase")  # fmt: skip
                default_iterations = min(TrainConfig().iterations, bounds.train_iterations)
                iterations = gr.Slider(5, bounds.train_iterations, value=default_iterations, step=5,
                                       label="Iterations", elem_id="train-iterations")  # fmt: skip
                with gr.Row():
                    train_btn = gr.Button("Train", variant="primary", elem_id="train-go")
                    stop_btn = gr.Button("Stop", elem_id="train-stop")
                with gr.Row():
                    more_btn = gr.Button("Train more", elem_id="train-more")
                    snap_btn = gr.Button("Snapshot", elem_id="train-snapshot")
                resume_btn = gr.Button("Resume the interrupted training", elem_id="train-resume")
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
        # Said at once: on a CPU the first report comes after several iterations (tens of seconds)
        seconds = trainer.estimated_seconds()
        guess = f" ({describe_seconds(seconds)} on this machine's {trainer.device.type.upper()})" if seconds else ""
        text = (
            f"Starting at iteration {start} of {trainer.target}{guess}: preparing the style, photos and loss network…"
        )
        yield sid, text + _bar(start, trainer.target), gr.update(), gr.update(), gr.update()
        image = None
        last_sent = 0.0
        started = time.monotonic()
        timed_out = False
        while thread.is_alive() or not events.empty():
            if not timed_out and time.monotonic() - started > bounds.train_seconds:
                timed_out = True  # the job's time is up: stop and keep the model so far, as Stop does
                trainer.cancel()
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
        with user_errors():
            entry = store.put(sid, f"{label} ({outcome.config.iterations} iterations)", outcome)
        (run_dir / FINISHED).touch()  # not offered for resuming after a restart
        done = "stopped" if trainer.cancelled else "done"
        if timed_out:
            done = f"stopped at this studio's limit of {bounds.train_seconds:g} s a job (STUDIO_MAX_TRAIN_SECONDS)"
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
        _check_iterations(n, bounds)
        if sid in runs and runs[sid].trainer.running:
            raise gr.Error("A training run is already going in this session: stop it first.")
        run_dir = workdir / sid / f"run-{uuid.uuid4().hex[:8]}"  # each Train starts a new session folder
        with user_errors():
            config = TrainConfig(iterations=int(n), style_strength=float(s), style_density=int(d), use_case=case,
                                 checkpoint_interval=checkpoint_every)  # fmt: skip
            trainer = make_trainer(
                list(style_files), list(content_files) if content_files else None, config, validation=val,
                session_dir=run_dir,
            )  # fmt: skip
        yield from stream(sid, trainer, run_dir, "model")

    def more(sid: str | None, n: float) -> Iterator[tuple[Any, ...]]:
        if sid in runs and runs[sid].trainer.running:
            raise gr.Error("Training is still running.")
        # this process's last run of the session, or after a restart the newest run folder it left
        run_dir = runs[sid].session_dir if sid in runs else latest_run(sid)
        if sid is None or run_dir is None:
            raise gr.Error("Train a model first, then train more.")
        _check_iterations(n, bounds)
        with user_errors():
            trainer = resume(run_dir, int(n))
        yield from stream(sid, trainer, run_dir, "trained more")

    def saved_runs(sid: str | None) -> list[tuple[Path, tuple[int, int]]]:
        """The session's run folders with a checkpoint, newest first: (folder, (iteration reached, target))."""
        if not sid or not _SESSION_ID.fullmatch(sid):
            return []
        found = [(d, checkpoint_state(d)) for d in (workdir / sid).glob("run-*")]
        return sorted(((d, s) for d, s in found if s is not None), key=lambda r: r[0].stat().st_mtime, reverse=True)

    def latest_run(sid: str | None) -> Path | None:
        return next((d for d, _ in saved_runs(sid)), None)

    def interrupted(sid: str | None) -> tuple[Path, int, int] | None:
        """The session's run that a restart cut short, if any: (folder, iteration reached, target)."""
        if sid in runs and runs[sid].trainer.running:
            return None
        for run_dir, (done, target) in saved_runs(sid):
            if done < target and not (run_dir / FINISHED).exists():
                return run_dir, done, target
        return None

    def resume_run(sid: str | None) -> Iterator[tuple[Any, ...]]:
        found = interrupted(sid)
        if found is None or sid is None:
            raise gr.Error("Nothing to resume: no training of this session was interrupted.")
        with user_errors():
            trainer = resume(found[0])
        yield from stream(sid, trainer, found[0], "model")

    def restore(sid: str | None, kept: str | None) -> tuple[Any, ...]:
        """Page load: take the browser's session back; say so if a training of it was interrupted."""
        sid = sid or (kept if kept and _SESSION_ID.fullmatch(kept) else None)
        found = interrupted(sid)
        text = (
            f"Training was interrupted at iteration {found[1]} of {found[2]} (the studio restarted). "
            "Press **Resume the interrupted training** to finish it from its last checkpoint."
            if found
            else gr.update()
        )
        choices = [(e.label, e.key) for e in store.entries(sid)] if sid else []
        return sid, text, gr.update(choices=choices) if choices else gr.update()

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
            entry = store.put(sid, f"snapshot at {model.config.iterations}", model)  # may refuse: session size
        image = model.stylize(runs[sid].trainer.validation_image, max_size=256)
        choices = [(e.label, e.key) for e in store.entries(sid)]
        return gr.update(choices=choices), [*(shots or []), (image, entry.label)], entry.label

    outputs = [session, status, preview, plot, models]
    inputs = [session, styles, content, validation, strength, density, use_case, iterations]
    # STUDIO_TRAININGS_PER_GPU trainings at a time per GPU (or on the CPU); the others wait in the queue,
    # which shows each its position.
    slots = bounds.trainings_per_gpu * max(1, torch.cuda.device_count())
    gpu = on_gpu(bounds.train_seconds + 120)  # ZeroGPU: the job's time limit, plus loading and saving
    trained = train_btn.click(gpu(train), inputs, outputs, api_name="train", concurrency_limit=slots,
                              concurrency_id="training")  # fmt: skip
    more_ev = more_btn.click(gpu(more), [session, iterations], outputs, api_name="train_more", concurrency_limit=slots,
                             concurrency_id="training")  # fmt: skip
    resumed = resume_btn.click(gpu(resume_run), session, outputs, api_name="resume", concurrency_limit=slots,
                               concurrency_id="training")  # fmt: skip
    stop_btn.click(stop, session, status, api_name="stop", queue=False)
    # State lives on the server: copy it into the hidden box, whose change the page stores in localStorage
    session.change(lambda sid: sid or "", session, saved, api_visibility="private")
    saved.change(None, saved, None, js=f"(sid) => {{ if (sid) localStorage.setItem('{STORAGE_KEY}', sid); }}")
    snapped = snap_btn.click(snapshot, [session, snapshots], [models, snapshots, snap_label], api_name="snapshot")
    return {
        "session": session,
        "models": models,
        "stored": [trained, more_ev, resumed, snapped],
        # for the page's load event (app.py): restore the session kept in the browser
        "load": (
            restore,
            [session, saved],
            [session, status, models],
            f"(sid, kept) => [sid, localStorage.getItem('{STORAGE_KEY}') || '']",
        ),
    }


def _check_iterations(n: float, bounds: Limits) -> None:
    if not isinstance(n, int | float) or not 1 <= n <= bounds.train_iterations:
        raise gr.Error(
            f"iterations must be between 1 and {bounds.train_iterations} here (STUDIO_MAX_ITERATIONS), got {n!r}"
        )


def _bar(done: int, total: int) -> str:
    """A progress bar under the status line (Markdown keeps the HTML <progress> element)."""
    return f'\n\n<progress value="{done}" max="{max(1, total)}" style="width:100%"></progress>'

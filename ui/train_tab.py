"""Train: style and content images, strength, density, use case, iterations; Train / Stop / Train more /
Snapshot, with the validation image and the loss curves streaming while it runs."""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
import torch

from studio import Progress, StudioError, TrainConfig, Trainer, default_use_case, describe_seconds
from studio.data import check_pixels, gather_content
from studio.limits import Budget, Limits, StopFlag, Stopped
from studio.session import CHECKPOINT_FILE, checkpoint_state
from studio.training import release_memory

from .common import image_path, refuse, user_errors
from .gpu import on_gpu
from .store import ModelStore

log = logging.getLogger("studio.ui")
MIN_UPDATE_SECONDS = 0.4  # at most ~2.5 page updates a second; a GPU reports every 5 iterations, ~6 a second
STORAGE_KEY = "style-studio-session"  # the browser's localStorage entry holding the session id
FINISHED = "finished"  # marker file in a run folder whose model was stored
RUNS_KEPT = 256  # finished runs remembered in memory (their loss curve, for "Train more"); older ones: from disk
ROWS_KEPT = 4000  # loss-curve points kept per finished run
STOPPING = "Stopping at the next iteration…"


@dataclass
class _Run:
    """One browser session's training request, from its start (unpacking, decoding) to its end; then, once
    over, only what "Train more" continues from (the trainer and its images are released)."""

    stop: StopFlag  # Stop, and the job's time limit from the request's start
    session_dir: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    trainer: Trainer | None = None  # while it trains
    active: bool = True  # the request is running (at most one per session)


def build(
    store: ModelStore,
    make_trainer: Callable[..., Trainer],
    resume: Callable[..., Trainer],
    workdir: Path,
    bounds: Limits,
) -> dict[str, Any]:
    """Returns the components other tabs listen to: the session id state and the models dropdown.

    Training runs keep their checkpoints under ``workdir/<session>/run-*``, so a studio killed mid-training
    offers to resume the run when the same browser comes back. Session ids are issued by ``store`` when a
    session first trains; the page keeps a copy in its localStorage, which the page-load event takes back
    only if ``store`` issued it and still keeps it (a made-up id is ignored). A session keeps one run folder
    (its latest: what "Train more" continues); each request's state is released when it ends.
    """
    runs: OrderedDict[str, _Run] = OrderedDict()
    registry = threading.Lock()  # two requests of one session at once: only one may begin
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
        """The session's id, issued here when it has none (or the one it had expired): never a client's."""
        return sid if store.known(sid) else store.new_session()

    def begin(sid: str, run_dir: Path, rows: list[dict[str, Any]] | None = None) -> _Run:
        with registry:
            if sid in runs and runs[sid].active:
                raise refuse("A training run is already going in this session: stop it first.")
            run = runs[sid] = _Run(StopFlag(bounds.train_seconds), run_dir, rows or [])
            runs.move_to_end(sid)
        return run

    def end(run: _Run) -> None:
        """The request is over, however it ended: release the trainer (weights, optimizer, decoded images) and
        forget the oldest finished runs, so memory does not grow with the number of trainings."""
        with registry:
            trainer, run.trainer, run.active = run.trainer, None, False
            del run.rows[:-ROWS_KEPT]
            while len(runs) > RUNS_KEPT:
                oldest = next(iter(runs))
                if runs[oldest].active:
                    break
                del runs[oldest]
        if trainer is not None:
            trainer.release()
        else:
            release_memory()

    def stream(sid: str, run: _Run, trainer: Trainer, label: str, fresh: bool) -> Iterator[tuple[Any, ...]]:
        """Train in a thread, streaming its progress; store the model. ``fresh``: the run folder was made by
        this request (removed if nothing was trained)."""
        events: queue.Queue[Progress] = queue.Queue()
        result: list[Any] = []
        run.trainer = trainer

        def work() -> None:
            try:
                result.append(trainer.run(events.put))
            except Exception as exc:  # reported to the user below  # noqa: BLE001
                result.append(exc)

        start = trainer.iteration  # > 0 when training more
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        image = None
        try:
            # Said at once: on a CPU the first report comes after several iterations (tens of seconds)
            seconds = trainer.estimated_seconds()
            device = trainer.device.type.upper()
            guess = f" ({describe_seconds(seconds)} on this machine's {device})" if seconds else ""
            text = f"Starting at iteration {start} of {trainer.target}{guess}: preparing the style, photos and loss "
            text += "network…"
            yield sid, text + _bar(start, trainer.target), gr.update(), gr.update(), gr.update()
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
                text = f"Iteration {p.iteration} of {p.iterations} · {p.elapsed:.0f} s · about {eta:.0f} s left"
                yield sid, text + _bar(p.iteration, p.iterations), image, pd.DataFrame(run.rows), gr.update()
        finally:
            if thread.is_alive():  # the page left (Gradio closed this generator): stop, keeping the checkpoint
                trainer.cancel()
                thread.join(30)
        thread.join()
        outcome = result[0] if result else StudioError("training stopped unexpectedly")
        if isinstance(outcome, Exception) and fresh and not (run.session_dir / CHECKPOINT_FILE).exists():
            shutil.rmtree(run.session_dir, ignore_errors=True)  # nothing trained, nothing to resume: nothing kept
        if isinstance(outcome, Stopped):
            yield sid, stopped_early(run, start), image, gr.update(), gr.update()
            return
        if isinstance(outcome, StudioError):
            raise refuse(str(outcome))
        if isinstance(outcome, Exception):
            log.error("training failed", exc_info=outcome)  # a bug, not a refusal: its traceback is wanted
            raise refuse(f"training failed: {outcome}")
        with user_errors():
            entry = store.put(sid, f"{label} ({outcome.config.iterations} iterations)", outcome)
        (run.session_dir / FINISHED).touch()  # not offered for resuming after a restart
        done = "stopped" if trainer.cancelled else "done"
        if run.stop.timed_out:
            done = f"stopped at this studio's limit of {bounds.train_seconds:g} s a job (STUDIO_MAX_TRAIN_SECONDS)"
        text = f"Training {done} at iteration {outcome.config.iterations}: **{entry.label}** is in Preview and Output."
        choices = [(e.label, e.key) for e in store.entries(sid)]
        yield sid, text, image, pd.DataFrame(run.rows), gr.update(choices=choices, value=entry.key)

    def stopped_early(run: _Run, iteration: int) -> str:
        why = f" (this studio's limit of {bounds.train_seconds:g} s a job, STUDIO_MAX_TRAIN_SECONDS)"
        return (
            f"Training stopped at iteration {iteration}{why if run.stop.timed_out else ''}, before its first step: "
            "nothing was stored."
        )

    def prepare(
        run: _Run, style_files: list[str], content_files: list[str] | None, val: str | None
    ) -> list[Path] | None:
        """Check the request's images from their headers against its budget (before decoding any), and
        gather its content (uploads linked, zips unpacked) into the run folder; Stop works throughout."""
        budget = Budget.of(bounds)
        check_pixels([Path(f) for f in style_files], budget, "style", style=True, stop=run.stop)
        if val:
            check_pixels([Path(val)], budget, "validation", stop=run.stop)
        if not content_files:
            return None
        return gather_content(list(content_files), run.session_dir / "content", budget, run.stop)

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
        if not style_files:
            raise refuse("Add at least one style image.")
        if len(style_files) > Trainer.MAX_STYLES:
            raise refuse(f"at most {Trainer.MAX_STYLES} styles in one model, got {len(style_files)}")
        _check_iterations(n, bounds)
        with user_errors():
            config = TrainConfig(iterations=int(n), style_strength=float(s), style_density=int(d), use_case=case,
                                 checkpoint_interval=checkpoint_every)  # fmt: skip
        sid = ensure(sid)
        with user_errors():
            store.check_room(sid)  # a full store refuses now, not after the training
        run_dir = workdir / sid / f"run-{uuid.uuid4().hex[:8]}"  # each Train starts a new session folder
        run = begin(sid, run_dir)
        try:
            yield sid, "Checking the images and unpacking the photos…", gr.update(), gr.update(), gr.update()
            try:
                content = prepare(run, list(style_files), content_files, val)
                trainer = make_trainer(list(style_files), content, config, validation=val, session_dir=run_dir,
                                       cancel=run.stop)  # fmt: skip
            except Stopped:
                shutil.rmtree(run_dir, ignore_errors=True)
                yield sid, stopped_early(run, 0), gr.update(), gr.update(), gr.update()
                return
            except StudioError as exc:
                shutil.rmtree(run_dir, ignore_errors=True)  # nothing of a refused request stays
                raise refuse(str(exc)) from None
            except BaseException:
                shutil.rmtree(run_dir, ignore_errors=True)
                raise
            for old in (workdir / sid).glob("run-*"):  # one run a session is kept: the one Train more continues
                if old != run_dir:
                    shutil.rmtree(old, ignore_errors=True)
            yield from stream(sid, run, trainer, "model", fresh=True)
        finally:
            end(run)

    def more(sid: str | None, n: float) -> Iterator[tuple[Any, ...]]:
        if sid in runs and runs[sid].active:
            raise refuse("Training is still running.")
        # this process's last run of the session, or after a restart the newest run folder it left
        run_dir = runs[sid].session_dir if sid in runs and runs[sid].session_dir.is_dir() else latest_run(sid)
        if not store.known(sid) or run_dir is None or not run_dir.is_dir():
            raise refuse("Train a model first, then train more.")
        assert sid is not None
        _check_iterations(n, bounds)
        with user_errors():
            store.check_room(sid)
        run = begin(sid, run_dir, runs[sid].rows if sid in runs else None)  # the plot continues
        try:
            yield from from_checkpoint(sid, run, lambda: resume(run_dir, int(n), cancel=run.stop), "trained more")
        finally:
            end(run)

    def from_checkpoint(sid: str, run: _Run, make: Callable[[], Trainer], label: str) -> Iterator[tuple[Any, ...]]:
        try:
            trainer = make()
        except Stopped:
            yield sid, stopped_early(run, checkpoint_iteration(run.session_dir)), gr.update(), gr.update(), gr.update()
            return
        except StudioError as exc:
            raise refuse(str(exc)) from None
        yield from stream(sid, run, trainer, label, fresh=False)

    def checkpoint_iteration(run_dir: Path) -> int:
        state = checkpoint_state(run_dir)
        return state[0] if state else 0

    def saved_runs(sid: str | None) -> list[tuple[Path, tuple[int, int]]]:
        """The session's run folders with a checkpoint, newest first: (folder, (iteration reached, target))."""
        if not store.known(sid):
            return []
        found = [(d, checkpoint_state(d)) for d in (workdir / str(sid)).glob("run-*")]
        return sorted(((d, s) for d, s in found if s is not None), key=lambda r: r[0].stat().st_mtime, reverse=True)

    def latest_run(sid: str | None) -> Path | None:
        return next((d for d, _ in saved_runs(sid)), None)

    def interrupted(sid: str | None) -> tuple[Path, int, int] | None:
        """The session's run that a restart cut short, if any: (folder, iteration reached, target)."""
        if sid in runs and runs[sid].active:
            return None
        for run_dir, (done, target) in saved_runs(sid):
            if done < target and not (run_dir / FINISHED).exists():
                return run_dir, done, target
        return None

    def resume_run(sid: str | None) -> Iterator[tuple[Any, ...]]:
        found = interrupted(sid)
        if found is None or sid is None:
            raise refuse("Nothing to resume: no training of this session was interrupted.")
        with user_errors():
            store.check_room(sid)
        run = begin(sid, found[0])
        try:
            yield from from_checkpoint(sid, run, lambda: resume(found[0], cancel=run.stop), "model")
        finally:
            end(run)

    def restore(sid: str | None, kept: str | None) -> tuple[Any, ...]:
        """Page load: take the browser's session back (only an id this studio issued and still keeps); say
        so if a training of it was interrupted."""
        if not store.known(sid):
            sid = None
            if kept and store.known(kept):
                sid = kept
            elif kept:  # made up, or expired: the page starts a new session when it first needs one
                log.warning("refused: a page load's session id (not issued here, or expired)")
        if sid:
            store.visit(sid)
        found = interrupted(sid)
        text = (
            f"Training was interrupted at iteration {found[1]} of {found[2]} (the studio restarted). "
            "Press **Resume the interrupted training** to finish it from its last checkpoint."
            if found
            else gr.update()
        )
        choices = [(e.label, e.key) for e in store.entries(sid)]
        return sid, text, gr.update(choices=choices) if choices else gr.update()

    def stop(sid: str | None) -> str:
        run = runs.get(sid) if sid else None
        if run is not None and run.active:
            run.stop.set()  # the engine polls it in every phase: unpacking, decoding, loading, training
            return STOPPING
        return "Nothing is training."

    def snapshot(sid: str | None, shots: list[Any] | None) -> tuple[Any, list[Any], Any]:
        run = runs.get(sid) if sid else None
        if run is None or not store.known(sid):
            raise refuse("Start training first.")
        trainer = run.trainer
        if trainer is None:
            raise refuse("Training is over: its model is in Preview and Output." if not run.active
                         else "Nothing to snapshot yet: training has not started.")  # fmt: skip
        assert sid is not None
        with user_errors():
            model = trainer.snapshot()
            entry = store.put(sid, f"snapshot at {model.config.iterations}", model)  # may refuse: session size
        image = model.stylize(trainer.validation_image, max_size=256)
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
    stop_btn.click(stop, session, status, api_name="stop", queue=False)  # at once, beside the queue
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
        raise refuse(
            f"iterations must be between 1 and {bounds.train_iterations} here (STUDIO_MAX_ITERATIONS), got {n!r}"
        )


def _bar(done: int, total: int) -> str:
    """A progress bar under the status line (Markdown keeps the HTML <progress> element)."""
    return f'\n\n<progress value="{done}" max="{max(1, total)}" style="width:100%"></progress>'

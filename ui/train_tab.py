"""Train: paintings (with thumbnails), photos, strength, density, use case, iterations, an estimate of the
time it takes here; Train / Stop / Snapshot / Train more, with the status, progress, validation image and loss
curves streaming while it runs.

The handlers live in :class:`Trainings` (run folders and per-session requests: :mod:`ui.runs`; the thread and
its reports: :mod:`ui.streaming`); :func:`build` lays the tab out and wires the two together.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
import torch

from studio import Progress, StudioError, TrainConfig, Trainer, default_use_case, describe_seconds, estimate_seconds
from studio.io.media import open_image
from studio.limits import Budget, Limits
from studio.progress import Cancelled
from studio.train.checkpoint import CHECKPOINT_FILE
from studio.train.content import check_pixels, gather_content
from studio.train.session import checkpoint_state, read_session
from studio.train.trainer import release_memory

from .common import image_path, refuse, user_errors
from .gpu import on_gpu
from .runs import (
    FINISHED,
    SAVE_SECONDS,
    VIEW,
    Busy,
    Registry,
    Run,
    RunFolders,
    add_snapshot,
    read_rows,
    read_status,
    read_view,
    save_progress,
    save_status,
)
from .store import ModelStore, style_title
from .streaming import Streamed, clock

log = logging.getLogger("studio.ui")
MIN_UPDATE_SECONDS = 0.4  # at most ~2.5 page updates a second; a GPU reports every 5 iterations, ~6 a second
TICK_SECONDS = 1.0  # without a report, the status's clock still moves once a second
STOPPING = "Stopping at the next iteration…"
STILL_GOING = (
    "A training of this session is still going, or stopping (its page was left): reload in a moment to see how "
    "it ended."
)
THUMB_SIDE = 160  # px, the paintings' thumbnails
FIT_SHARE = 0.9  # the one-click fix aims at this share of the job's time limit: an estimate is only a guide
# On a CPU an iteration takes seconds: report every 2 (the first validation image comes early); a GPU every 5
REPORT_EVERY = {"cpu": 2, "gpu": 5}

# the two use cases, each named with what it is for (the values stay "image" and "video")
USE_CASES = [("image (full)", "image"), ("video (fast)", "video")]
HELP = {  # what each setting changes, in Create ML's terms
    "strength": "Style vs content: higher paints more of the painting, lower keeps more of the photo.",
    "density": "Coarse vs fine: low learns large shapes, high the fine brush strokes.",
    "use_case": "Model size and speed: full is best on photos; fast is small, for clips and the webcam, and "
    "trains in half the time.",
    "iterations": "Training length: more is closer to the painting, and slower.",
}


@dataclass
class Pace:
    """What trainings in this process measured (per use case): seconds before the first iteration and per
    iteration. Preferred to the studio's benchmark constants: it is this machine, as loaded as it is."""

    setup: float
    per_iteration: float


def _device() -> str:
    return "gpu" if torch.cuda.is_available() else "cpu"


def _busy_factor() -> float:
    """How much slower a CPU training runs now, from the load other processes put on the cores (1 = idle)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on this system
        return 1.0
    cores = os.cpu_count() or 1
    threads = min(torch.get_num_threads(), cores)
    return max(1.0, (load + threads) / cores)


def _bar(done: int, total: int) -> str:
    """A progress bar under the status line (Markdown keeps the HTML <progress> element)."""
    return f'\n\n<progress value="{done}" max="{max(1, total)}" style="width:100%"></progress>'


def _check_iterations(n: float, bounds: Limits) -> None:
    if not isinstance(n, int | float) or not 1 <= n <= bounds.train_iterations:
        raise refuse(
            f"iterations must be between 1 and {bounds.train_iterations} here (STUDIO_MAX_ITERATIONS), got {n!r}"
        )


def range_warning(name: str, lo: float, hi: float, note: str = "") -> Callable[[Any], None]:
    """A handler for a slider's release (its typed value, before the page clamps it): a value out of range
    gets a message saying what it became, instead of a silent clamp."""

    def check(value: Any) -> None:
        try:
            typed = float(value)
        except (TypeError, ValueError):
            return
        if math.isnan(typed) or lo <= typed <= hi:
            return
        kept = hi if typed > hi else lo
        gr.Warning(f"{name}: {lo:g} to {hi:g}{note}; {typed:g} was changed to {kept:g}.")

    return check


class Trainings:
    """The Train tab's handlers. Training runs keep their checkpoints under ``workdir/<session>/run-*``, so a
    studio killed mid-training offers to resume the run when the same browser comes back. Session ids are
    issued by ``store`` when a session first trains. A session keeps one run folder (its latest: what "Train
    more" continues); each request's trainer is released when it ends."""

    def __init__(
        self,
        store: ModelStore,
        make_trainer: Callable[..., Trainer],
        resume: Callable[..., Trainer],
        workdir: Path,
        bounds: Limits,
    ) -> None:
        self.store, self.make_trainer, self.resume_trainer, self.bounds = store, make_trainer, resume, bounds
        self.folders = RunFolders(workdir)
        self.registry = Registry(bounds.train_seconds)
        self.pace: dict[str, Pace] = {}  # use case -> measured here
        self.device = _device()

    # --- sessions -------------------------------------------------------------------------------------------
    def ensure(self, sid: str | None) -> str:
        """The session's id, issued here when it has none (or the one it had expired): never a client's."""
        return sid if self.store.known(sid) else self.store.new_session()

    def choices(self, sid: str | None) -> list[tuple[str, str]]:
        return [(e.label, e.key) for e in self.store.entries(sid)]

    def interrupted(self, sid: str | None) -> tuple[Path, int, int] | None:
        if not self.store.known(sid) or self.registry.active(sid):
            return None
        return self.folders.interrupted(str(sid))

    def continuable(self, sid: str | None) -> Path | None:
        """The run "Train more" continues: this process's last run of the session, else the newest left on disk."""
        if not self.store.known(sid):
            return None
        run = self.registry.get(sid)
        if run is not None and run.folder.is_dir():
            return run.folder
        return self.folders.latest(str(sid))

    def restore(self, sid: str | None, kept: str | None) -> tuple[Any, ...]:
        """Page load: take the browser's session back (only an id this studio issued and still keeps); say
        so if a training of it was interrupted, else what its last training was. (Its run's images and curves
        follow once the session is set: :meth:`view`.)"""
        if not self.store.known(sid):
            sid = None
            if kept and self.store.known(kept):
                sid = kept
            elif kept:  # made up, or expired: the page starts a new session when it first needs one
                log.warning("refused: a page load's session id (not issued here, or expired)")
        if sid:
            self.store.visit(sid)
        found = self.interrupted(sid)
        text = (
            f"Training was interrupted at iteration {found[1]} of {found[2]} (the studio restarted). "
            "Press **Resume the interrupted training** to finish it from its last checkpoint."
            if found
            else self.last_status(sid) or gr.update()
        )
        choices = self.choices(sid)
        return sid, text, gr.update(choices=choices) if choices else gr.update()

    def last_status(self, sid: str | None) -> str | None:
        """The status line after a reload or a restart: how the session's last training ended, as its page
        said it then; for one cut short before its end (no such line kept), what its folder shows."""
        if not self.store.known(sid):
            return None
        if self.registry.active(sid):
            return STILL_GOING
        folder = self.continuable(sid)
        if folder is None:
            return None
        said = read_status(folder)
        state = checkpoint_state(folder)
        if said is not None or state is None:
            return said
        done, target = state
        try:
            info = read_session(folder)
            what = f"{style_title(info.style_names)} · {info.config.use_case} · {target} it, "
        except StudioError:
            what = ""
        # a folder from before the view was kept (no view/): its marker tells whether its model was stored
        if (folder / VIEW).is_dir() or not (folder / FINISHED).exists():
            return f"Last training: {what}stopped at iteration {done} of {target}, before its model was stored."
        return f"Last training: {what}{'finished' if done >= target else f'stopped at iteration {done}'}."

    def view(self, sid: str | None) -> tuple[Any, Any, Any]:
        """The right column after a reload or a restart (the session is set): the last run's validation image,
        loss curves and snapshots with their labels, as its folder kept them. Nothing changes while a training
        of the session streams (its own updates fill the column)."""
        keep = gr.update(), gr.update(), gr.update()
        if not self.store.known(sid) or self.registry.active(sid):
            return keep
        folder = self.continuable(sid)
        if folder is None:
            return keep
        shown = read_view(folder)
        plot: Any = gr.update()
        if shown.rows:
            state = checkpoint_state(folder)
            end = max(r["iteration"] for r in shown.rows)
            plot = gr.update(value=pd.DataFrame(shown.rows), x_lim=[0, max(end, state[1] if state else 0)])
        return shown.image if shown.image is not None else gr.update(), plot, shown.snapshots or gr.update()

    # --- before training: the paintings, the estimate, the buttons ---------------------------------------------
    def thumbnails(self, files: list[str] | None) -> Any:
        """Each uploaded painting, small, under its file name; one that cannot be read is named in a warning."""
        shots = []
        for f in files or []:
            name = Path(f).name
            try:
                image = open_image(f, size_hint=THUMB_SIDE).convert("RGB")
            except (StudioError, OSError, ValueError):
                gr.Warning(f"{name} is not an image the studio can read (JPEG, PNG, WebP, TIFF, BMP, GIF, HEIC).")
                continue
            image.thumbnail((THUMB_SIDE, THUMB_SIDE))
            shots.append((image, name))
        return gr.update(value=shots, visible=bool(shots))

    def seconds(self, case: str, n: int) -> tuple[float, float, str] | None:
        """(setup s, s per iteration, where the numbers come from) for ``n`` iterations of ``case`` here."""
        if case in self.pace:
            p = self.pace[case]
            return p.setup, p.per_iteration, "as measured by the last training here"
        with user_errors():
            config = TrainConfig(iterations=max(1, n), use_case=case)
        total = estimate_seconds(config)
        setup = estimate_seconds(config, iterations=0)
        if total is None or setup is None:
            return None
        per = (total - setup) / max(1, n)
        if self.device == "cpu" and (busy := _busy_factor()) > 1.2:
            return setup * busy, per * busy, "benchmarks, adjusted for the current load"
        return setup, per, "from the studio's benchmarks"

    def estimate(self, case: str, n: float) -> tuple[Any, Any]:
        """The estimate line and the one-click fix (shown only when the run would pass the job's time limit)."""
        bounds = self.bounds.train_iterations
        if case not in ("image", "video") or not isinstance(n, int | float) or not 1 <= n <= bounds:
            return "", gr.update(visible=False)
        n = int(n)
        found = self.seconds(case, n)
        if found is None:
            return "No time estimate for this device.", gr.update(visible=False)
        setup, per, source = found
        total = setup + n * per
        where = "this GPU" if self.device == "gpu" else "this CPU"
        text = f"**{describe_seconds(total).capitalize()}** for {n} iterations on {where} ({source})."
        limit = self.bounds.train_seconds
        if total <= limit:
            return text, gr.update(visible=False)
        reached = max(0, int((limit - setup) / per))
        text += (
            f" ⚠️ Over this studio's limit of {describe_seconds(limit).removeprefix('about ')} a training "
            f"(STUDIO_MAX_TRAIN_SECONDS): it would stop near iteration {reached} and keep that model."
        )
        fix = self.fit(case, n)
        if fix is None:
            return text, gr.update(visible=False)
        fix_case, fix_n, fix_total = fix
        model = "" if fix_case == case else f"the {fix_case} model, "
        label = f"Fit the limit: {model}{fix_n} iterations ({describe_seconds(fix_total)})"
        return text, gr.update(value=label, visible=True)

    def fit(self, case: str, n: int) -> tuple[str, int, float] | None:
        """Settings that fit the job's time limit: fewer iterations of the same model, or (when too few of
        those would fit to be useful) the faster video model. (use case, iterations, seconds) or None."""
        budget = self.bounds.train_seconds * FIT_SHARE
        options = []
        for c in (case, "video"):
            found = self.seconds(c, n)
            if found is None:
                continue
            setup, per, _ = found
            fits = min(n, int((budget - setup) / per) // 5 * 5)
            if fits >= 5:
                options.append((c, fits, setup + fits * per))
        if not options:
            return None
        same = options[0]
        if same[0] == case and same[1] >= min(n, 50):
            return same
        return max(options, key=lambda o: o[1])

    def apply_fit(self, case: str, n: float) -> tuple[Any, Any]:
        fix = self.fit(case, int(n)) if isinstance(n, int | float) and n >= 1 else None
        if fix is None:
            return gr.update(), gr.update()
        return gr.update(value=fix[0]), gr.update(value=fix[1])

    def buttons(self, sid: str | None, styles: list[str] | None) -> tuple[Any, ...]:
        """Train, Stop, Snapshot, Train more, Resume: each enabled only when pressing it does something."""
        run = self.registry.get(sid)
        if run is not None and run.active and not run.over:
            return self.training()
        return (
            gr.update(interactive=bool(styles)),
            gr.update(interactive=False),
            gr.update(interactive=False),
            gr.update(interactive=self.continuable(sid) is not None),
            gr.update(visible=self.interrupted(sid) is not None),
        )

    @staticmethod
    def training() -> tuple[Any, ...]:
        """The buttons while a training runs, set the moment it is asked for (before the server answers)."""
        return (
            gr.update(interactive=False),
            gr.update(interactive=True),
            gr.update(interactive=True),
            gr.update(interactive=False),
            gr.update(visible=False),
        )

    # --- training -------------------------------------------------------------------------------------------
    def config(self, s: float, d: float, case: str, n: float) -> TrainConfig:
        _check_iterations(n, self.bounds)
        with user_errors():
            return TrainConfig(
                iterations=int(n),
                style_strength=float(s),
                style_density=int(d),
                use_case=case,
                checkpoint_interval=self.bounds.checkpoint_interval,
                report_interval=REPORT_EVERY[self.device],
            )

    def begin(self, sid: str, folder: Path, rows: list[dict[str, Any]] | None = None) -> Run:
        try:
            return self.registry.begin(sid, folder, rows)
        except Busy as exc:
            raise refuse(str(exc)) from None

    def end(self, run: Run) -> None:
        """Release the request's trainer (weights, optimizer, decoded images), however it ended."""
        trainer = self.registry.end(run)
        if trainer is not None:
            trainer.release()
        else:
            release_memory()

    def prepare(
        self, run: Run, style_files: list[str], content_files: list[str] | None, val: str | None
    ) -> list[Path] | None:
        """Check the request's images from their headers against its budget (before decoding any), and
        gather its content (uploads linked, zips unpacked) into the run folder; Stop works throughout."""
        budget = Budget.of(self.bounds)
        check_pixels([Path(f) for f in style_files], budget, "style", style=True, cancel=run.stop)
        if val:
            check_pixels([Path(val)], budget, "validation", cancel=run.stop)
        if not content_files:
            return None
        return gather_content(list(content_files), run.folder / "content", budget, run.stop)

    def train(
        self,
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
        config = self.config(s, d, case, n)
        sid = self.ensure(sid)
        with user_errors():
            self.store.check_room(sid)  # a full store refuses now, not after the training
        folder = self.folders.new(sid)  # each Train starts a new run folder
        run = self.begin(sid, folder)
        try:
            yield sid, "Checking the images and unpacking the photos…", gr.update(), gr.update(), gr.update()
            try:
                content = self.prepare(run, list(style_files), content_files, val)
                trainer = self.make_trainer(
                    list(style_files), content, config, validation=val, session_dir=folder, cancel=run.stop
                )
            except Cancelled:  # not a StudioError: a Stop reads as such, never as a refusal
                self.folders.discard(folder)
                yield sid, self.stopped_early(run, 0), gr.update(), gr.update(), gr.update()
                return
            except StudioError as exc:
                self.folders.discard(folder)  # nothing of a refused request stays
                raise refuse(str(exc)) from None
            except BaseException:
                self.folders.discard(folder)
                raise
            self.folders.keep_only(sid, folder)  # one run a session is kept: the one Train more continues
            yield from self.stream(sid, run, trainer, fresh=True)
        finally:
            self.end(run)

    def more(self, sid: str | None, n: float) -> Iterator[tuple[Any, ...]]:
        if self.registry.active(sid):
            raise refuse("Training is still running.")
        folder = self.continuable(sid)
        if folder is None or not folder.is_dir():
            raise refuse("Train a model first, then train more.")
        assert sid is not None
        _check_iterations(n, self.bounds)
        with user_errors():
            self.store.check_room(sid)
        last = self.registry.get(sid)
        # the plot continues: from memory, else (after a restart) from the rows the folder kept
        rows = (
            last.rows if last is not None and last.folder == folder else read_rows(folder, RunFolders.reached(folder))
        )
        run = self.begin(sid, folder, rows)
        try:
            yield from self.from_checkpoint(sid, run, lambda: self.resume_trainer(folder, int(n), cancel=run.stop))
        finally:
            self.end(run)

    def resume(self, sid: str | None) -> Iterator[tuple[Any, ...]]:
        found = self.interrupted(sid)
        if found is None or sid is None:
            raise refuse("Nothing to resume: no training of this session was interrupted.")
        with user_errors():
            self.store.check_room(sid)
        run = self.begin(sid, found[0], read_rows(found[0], until=found[1]))  # the curve up to its checkpoint
        try:
            yield from self.from_checkpoint(sid, run, lambda: self.resume_trainer(found[0], cancel=run.stop))
        finally:
            self.end(run)

    def from_checkpoint(self, sid: str, run: Run, make: Callable[[], Trainer]) -> Iterator[tuple[Any, ...]]:
        try:
            trainer = make()
        except Cancelled:
            yield sid, self.stopped_early(run, RunFolders.reached(run.folder)), gr.update(), gr.update(), gr.update()
            return
        except StudioError as exc:
            raise refuse(str(exc)) from None
        yield from self.stream(sid, run, trainer, fresh=False)

    def stream(self, sid: str, run: Run, trainer: Trainer, fresh: bool) -> Iterator[tuple[Any, ...]]:
        """Train in a thread, streaming its progress; store the model. ``fresh``: the run folder was made by
        this request (removed if nothing was trained)."""
        run.trainer = trainer
        start = trainer.iteration  # > 0 when training more
        job: Streamed[Progress, Any] = Streamed(trainer.run, on_close=trainer.cancel)
        image, last, heard = None, None, 0.0
        axis = gr.update(x_lim=[0, trainer.target])  # whole iterations from 0 to the end: the ticks stay readable
        yield sid, self.preparing(trainer, run, start), gr.update(), axis, gr.update()
        for batch in job.updates(every=MIN_UPDATE_SECONDS, idle=TICK_SECONDS):
            if not batch and last is None:  # still preparing: the clock moves
                yield sid, self.preparing(trainer, run, start), gr.update(), gr.update(), gr.update()
                continue
            for p in batch:
                run.rows += [
                    {"iteration": p.iteration, "loss": p.style_loss, "kind": "style"},
                    {"iteration": p.iteration, "loss": p.content_loss, "kind": "content"},
                ]
                image = p.image or image
            if batch:
                last, heard = batch[-1], time.monotonic()
                if heard - run.saved >= SAVE_SECONDS:  # kept for a reload or a restart (see view)
                    run.saved = heard
                    save_progress(run.folder, run.rows, image)
            assert last is not None
            # between reports (a CPU's take seconds) the countdown moves; every update carries the latest image
            # and curves, so an API client's stream has them in each "Iteration" line
            yield sid, self.progress(run, last, start, heard), image, pd.DataFrame(run.rows), gr.update()
        yield from self.finish(sid, run, trainer, job.outcome, image, last, start, fresh)

    def finish(
        self,
        sid: str,
        run: Run,
        trainer: Trainer,
        outcome: Any,
        image: Any,
        last: Progress | None,
        start: int,
        fresh: bool,
    ) -> Iterator[tuple[Any, ...]]:
        """The training's end: say how it ended, store its model, remember how fast it went."""
        run.over = True
        if last is not None and last.iteration > start and not isinstance(outcome, Exception):
            setup = max(0.0, time.monotonic() - run.started - last.elapsed)
            self.pace[trainer.config.use_case] = Pace(setup, last.elapsed / (last.iteration - start))
        if isinstance(outcome, Exception) and fresh and not (run.folder / CHECKPOINT_FILE).exists():
            self.folders.discard(run.folder)  # nothing trained, nothing to resume: nothing kept
        elif last is not None:
            save_progress(run.folder, run.rows, image)  # the whole curve and the last image
        if isinstance(outcome, Cancelled):  # before the first iteration: nothing to store
            yield sid, self.stopped_early(run, start), image, gr.update(), gr.update()
            return
        if isinstance(outcome, StudioError):
            raise refuse(str(outcome))
        if isinstance(outcome, Exception):
            log.error("training failed", exc_info=outcome)  # a bug, not a refusal: its traceback is wanted
            raise refuse(f"training failed: {outcome}")
        with user_errors():
            entry = self.store.add(sid, outcome)  # named from its painting and settings: "la_muse · image · 500 it"
        self.folders.finish(run.folder)  # not offered for resuming after a restart
        done = "stopped" if trainer.cancelled else "done"
        if run.stop.timed_out:
            done = f"stopped at this studio's limit of {self.bounds.train_seconds:g} s a job (STUDIO_MAX_TRAIN_SECONDS)"
        took = clock(time.monotonic() - run.started)
        reached = outcome.config.iterations
        text = f"Training {done} at iteration {reached} ({took}): **{entry.label}** is in Preview and Output."
        ended = "finished" if reached >= trainer.target else f"stopped at iteration {reached} of {trainer.target}"
        limit = f" at this studio's limit of {self.bounds.train_seconds:g} s a job" if run.stop.timed_out else ""
        save_status(run.folder, f"Last training: **{entry.label}**, {ended}{limit} ({took}): in Preview and Output.")
        plot = pd.DataFrame(run.rows) if run.rows else gr.update()
        yield sid, text, image, plot, gr.update(choices=self.choices(sid), value=entry.key)

    def preparing(self, trainer: Trainer, run: Run, start: int) -> str:
        """The status before the first report: what happens, for how long so far, how long it usually takes."""
        waited = time.monotonic() - run.started
        left = max(0, trainer.target - start)
        found = self.seconds(trainer.config.use_case, left)  # as the estimate before the start said
        guess = f" · {describe_seconds(found[0] + left * found[1])} in all here" if found else ""
        text = (
            f"Starting at iteration {start} of {trainer.target}: preparing the style, photos and loss network… "
            f"{clock(waited)}{guess}"
        )
        return text + _bar(start, trainer.target)

    def progress(self, run: Run, p: Progress, start: int, heard: float) -> str:
        """The status while training ("Iteration 40 of 200 · 1 min 10 s · about 4 min left"), counting down
        between reports."""
        done = max(1, p.iteration - start)
        left = p.elapsed / done * (p.iterations - p.iteration) - (time.monotonic() - heard)
        eta = f" · {describe_seconds(left)} left" if p.iteration < p.iterations else " · saving…"
        text = f"Iteration {p.iteration} of {p.iterations} · {clock(time.monotonic() - run.started)}{eta}"
        return text + _bar(p.iteration, p.iterations)

    def stopped_early(self, run: Run, iteration: int) -> str:
        why = f" (this studio's limit of {self.bounds.train_seconds:g} s a job, STUDIO_MAX_TRAIN_SECONDS)"
        return (
            f"Training stopped at iteration {iteration}{why if run.stop.timed_out else ''}, before its first step: "
            "nothing was stored."
        )

    # --- while training -------------------------------------------------------------------------------------
    def stop(self, sid: str | None) -> str:
        run = self.registry.get(sid)
        if run is not None and run.active:
            run.stop.set()  # the engine polls it in every phase: unpacking, decoding, loading, training
            return STOPPING
        return "Nothing is training."

    def snapshot(self, sid: str | None, shots: list[Any] | None) -> tuple[Any, list[Any], Any]:
        run = self.registry.get(sid)
        if run is None or not self.store.known(sid):
            raise refuse("Start training first.")
        trainer = run.trainer
        if trainer is None:
            raise refuse(
                "Training is over: its model is in Preview and Output."
                if not run.active
                else "Nothing to snapshot yet: training has not started."
            )
        assert sid is not None
        with user_errors():
            model = trainer.snapshot()
            entry = self.store.add(sid, model, snapshot=True)  # may refuse: iteration 0, session size
        image = model.stylize(trainer.validation_image, max_size=256)
        add_snapshot(run.folder, image, entry.label)  # the gallery is back after a reload or a restart
        return gr.update(choices=self.choices(sid)), [*(shots or []), (image, entry.label)], entry.label


# --- the page ---------------------------------------------------------------------------------------------------
@dataclass
class _Tab:
    """The tab's components."""

    page: Any
    session: Any
    styles: Any
    thumbs: Any
    content: Any
    validation: Any
    strength: Any
    density: Any
    use_case: Any
    iterations: Any
    estimate: Any
    fit: Any
    train: Any
    stop: Any
    snapshot: Any
    more: Any
    resume: Any
    status: Any
    preview: Any
    plot: Any
    snapshots: Any
    snap_label: Any
    models: Any = None  # rendered by the Output tab

    @property
    def buttons(self) -> list[Any]:
        return [self.train, self.stop, self.snapshot, self.more, self.resume]


def _inputs(bounds: Limits, case: str, n: int) -> dict[str, Any]:
    """The left column's inputs: paintings with their thumbnails, photos, the four settings."""
    with gr.Row(equal_height=True):
        styles = gr.File(
            label="Paintings (several make one multi-style model)",
            file_count="multiple",
            file_types=["image", ".heic", ".heif"],
            height=130,  # room for the label above the upload icon on a phone
            min_width=200,
            elem_id="train-styles",
        )
        thumbs = gr.Gallery(
            label="Your paintings",
            columns=3,
            height=110,
            min_width=200,
            object_fit="contain",
            fit_columns=False,
            allow_preview=False,
            interactive=False,
            visible=False,
            elem_id="train-thumbs",
        )
    with gr.Accordion("Photos to learn from and the validation image (optional)", open=False):
        with gr.Row():
            content = gr.File(
                label="Content photos, or zips of them (empty: the built-in set)",
                file_count="multiple",
                file_types=["image", ".heic", ".heif", ".zip"],
                height=150,
                elem_id="train-content",
            )
            validation = image_path(label="Validation image (shown while training)", height=150, elem_id="train-val")
    with gr.Row():
        strength = gr.Slider(
            1,
            10,
            value=5,
            step=0.5,
            label="Style strength",
            info=HELP["strength"],
            min_width=200,
            elem_id="train-strength",
        )
        density = gr.Slider(
            64,
            1024,
            value=256,
            step=4,
            label="Style density",
            info=HELP["density"],
            min_width=200,
            elem_id="train-density",
        )
    with gr.Row():
        use_case = gr.Radio(
            USE_CASES, value=case, label="Use case", info=HELP["use_case"], min_width=200, elem_id="train-usecase"
        )
        iterations = gr.Slider(
            5,
            bounds.train_iterations,
            value=n,
            step=5,
            label="Iterations",
            info=HELP["iterations"],
            min_width=200,
            elem_id="train-iterations",
        )
    return dict(
        styles=styles,
        thumbs=thumbs,
        content=content,
        validation=validation,
        strength=strength,
        density=density,
        use_case=use_case,
        iterations=iterations,
    )


def _actions(first_estimate: tuple[Any, Any]) -> dict[str, Any]:
    """The estimate, the buttons, and the status with its progress bar right under them."""
    text, fix = first_estimate
    estimate = gr.Markdown(text, elem_id="train-estimate")
    fit = gr.Button(
        fix.get("value", "Fit the limit"), visible=fix.get("visible", False), size="sm", elem_id="train-fit"
    )
    with gr.Row():
        train = gr.Button("Train", variant="primary", interactive=False, min_width=80, elem_id="train-go")
        stop = gr.Button("Stop", interactive=False, min_width=80, elem_id="train-stop")
        snapshot = gr.Button("Snapshot", interactive=False, min_width=80, elem_id="train-snapshot")
        more = gr.Button("Train more", interactive=False, min_width=80, elem_id="train-more")
    resume = gr.Button("Resume the interrupted training", visible=False, elem_id="train-resume")
    status = gr.Markdown("Not trained yet: add a painting, then press **Train**.", elem_id="train-status")
    return dict(
        estimate=estimate, fit=fit, train=train, stop=stop, snapshot=snapshot, more=more, resume=resume, status=status
    )


def _results() -> dict[str, Any]:
    """The right column: the validation image, the loss curves, the snapshots (each at its own size)."""
    preview = gr.Image(
        label="Validation image, as the model paints it now", interactive=False, height=300, elem_id="train-preview"
    )
    # Starts empty (None): a plot that starts from an empty frame draws no lines when updated.
    plot = gr.LinePlot(
        None,
        x="iteration",
        y="loss",
        color="kind",
        title="Losses (lower is closer)",
        height=220,
        x_axis_format="~r",
        y_axis_format="~g",
        x_label_angle=0,
        elem_id="train-plot",
    )
    snap_label = gr.Textbox(visible=False)  # the API's answer: the snapshot's label
    snapshots = gr.Gallery(
        label="Snapshots (validation image)",
        columns=2,
        height=340,
        object_fit="scale-down",
        fit_columns=False,
        interactive=False,
        elem_id="train-snapshots",
    )
    return dict(preview=preview, plot=plot, snapshots=snapshots, snap_label=snap_label)


def _layout(tab: Trainings) -> _Tab:
    case = default_use_case()
    n = min(TrainConfig().iterations, tab.bounds.train_iterations)
    with gr.Tab("Train", id="train") as page:
        session = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=340):
                inputs = _inputs(tab.bounds, case, n)
                actions = _actions(tab.estimate(case, n))
            with gr.Column(scale=1, min_width=340):
                results = _results()
    return _Tab(page=page, session=session, **inputs, **actions, **results)


def _wire_training(tab: Trainings, ui: _Tab) -> list[Any]:
    """Train, Train more, Resume (queued: STUDIO_TRAININGS_PER_GPU at a time per GPU or on the CPU; the
    others wait, each shown its place), Stop and Snapshot. Returns the events that store a model."""
    bounds = tab.bounds
    outputs = [ui.session, ui.status, ui.preview, ui.plot, ui.models]
    inputs = [ui.session, ui.styles, ui.content, ui.validation, ui.strength, ui.density, ui.use_case, ui.iterations]
    slots = bounds.trainings_per_gpu * max(1, torch.cuda.device_count())
    gpu = on_gpu(bounds.train_seconds + 120)  # ZeroGPU: the job's time limit, plus loading and saving
    queued = dict(concurrency_limit=slots, concurrency_id="training")
    trained = ui.train.click(gpu(tab.train), inputs, outputs, api_name="train", **queued)
    more = ui.more.click(gpu(tab.more), [ui.session, ui.iterations], outputs, api_name="train_more", **queued)
    resumed = ui.resume.click(gpu(tab.resume), ui.session, outputs, api_name="resume", **queued)
    ui.stop.click(tab.stop, ui.session, ui.status, api_name="stop", queue=False)  # at once, beside the queue
    snapped = ui.snapshot.click(
        tab.snapshot, [ui.session, ui.snapshots], [ui.models, ui.snapshots, ui.snap_label], api_name="snapshot"
    )
    private: dict[str, Any] = dict(api_visibility="private", show_progress="hidden")
    for button, event in ((ui.train, trained), (ui.more, more), (ui.resume, resumed)):
        button.click(tab.training, None, ui.buttons, queue=False, **private)
        event.then(tab.buttons, [ui.session, ui.styles], ui.buttons, **private)  # however it ended
        event.then(tab.estimate, [ui.use_case, ui.iterations], [ui.estimate, ui.fit], **private)  # new pace
    return [trained, more, resumed, snapped]


def _wire_controls(tab: Trainings, ui: _Tab) -> None:
    """Thumbnails, the estimate and its fix, range messages, and the buttons' states as things change."""
    private: dict[str, Any] = dict(api_visibility="private", show_progress="hidden")
    ui.styles.change(tab.thumbnails, ui.styles, ui.thumbs, **private)
    # (the training's own end updates them too: _wire_training; each button's state has one writer at a time)
    for box in (ui.styles, ui.session):
        box.change(tab.buttons, [ui.session, ui.styles], ui.buttons, **private)
    estimate = [ui.use_case, ui.iterations], [ui.estimate, ui.fit]
    ui.page.select(tab.estimate, *estimate, **private)  # the machine's load now, not at the studio's start
    for box in (ui.use_case, ui.iterations):
        box.change(
            tab.estimate, [ui.use_case, ui.iterations], [ui.estimate, ui.fit], trigger_mode="always_last", **private
        )
    ui.fit.click(tab.apply_fit, [ui.use_case, ui.iterations], [ui.use_case, ui.iterations], **private)
    limit = f" here (STUDIO_MAX_ITERATIONS {tab.bounds.train_iterations})"
    for slider, name, lo, hi, note in (
        (ui.strength, "Style strength", 1, 10, ""),
        (ui.density, "Style density", 64, 1024, ""),
        (ui.iterations, "Iterations", 5, tab.bounds.train_iterations, limit),
    ):  # the value as typed, before the page clamps it: preprocess=False skips Gradio's range check
        slider.release(range_warning(name, lo, hi, note), slider, None, preprocess=False, **private)


def build(
    store: ModelStore,
    make_trainer: Callable[..., Trainer],
    resume: Callable[..., Trainer],
    workdir: Path,
    bounds: Limits,
) -> dict[str, Any]:
    """Returns the components other tabs listen to: the session id state and the models dropdown; the events
    that store a model; and the page-load handler that restores a session (see :meth:`Trainings.restore`)."""
    tab = Trainings(store, make_trainer, resume, workdir, bounds)
    ui = _layout(tab)
    # allow_custom_value: the store itself refuses keys of other sessions, with a clear message
    ui.models = gr.Dropdown(
        [], label="Your models", interactive=True, allow_custom_value=True, elem_id="output-models", render=False
    )
    stored = _wire_training(tab, ui)
    _wire_controls(tab, ui)
    # once the page load has set the session (a reload, a restarted studio): the last run's image, curves, snapshots
    ui.session.change(
        tab.view, ui.session, [ui.preview, ui.plot, ui.snapshots], api_visibility="private", show_progress="hidden"
    )
    return {
        "session": ui.session,
        "models": ui.models,
        "stored": stored,
        # for the page's load event (app.py): (handler, outputs); its inputs are the session and the id the
        # browser kept (a gr.BrowserState)
        "load": (tab.restore, [ui.session, ui.status, ui.models]),
    }

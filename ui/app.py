"""Assemble the studio: one tab per step, each given the engine functions it calls; and serve it, with a
temporary folder of its own that a later start sweeps if this process crashed."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

import studio
from studio.limits import limits
from studio.presets import load_spec
from studio.settings import check_all, folders
from studio.train.content import builtin_content
from studio.train.warmup import warm_up

from . import output_tab, preview_tab, styles_tab, train_tab, video_tab, webcam_tab
from .common import PAGE_CSS, refuse_quietly
from .gpu import on_zerogpu
from .store import ModelStore

USER_MODELS_KEPT = 8  # session models kept loaded in this process (the least recently used go first)
# Gradio's copies of uploads and results (what the browser fetches) are deleted this long after they were made;
# a request's own files go when it ends (ui.common.request_folder), downloads with their model (ui.store).
SERVED_FILE_SECONDS = 3600
# What a first-time user reads first: the steps, in Create ML's order, named as the tabs are
HEADER = (
    "# Style Studio\n**1 Styles**: click a preset to see it on a photo, or drop a painting of your own → "
    "**2 Train** a model on your painting → **3 Preview** it on your photos → **4 Output**: download it for apps."
)
BROWSER_KEY = "style-studio"  # the browser's localStorage entry keeping the session id (a gr.BrowserState)
# Gradio hands this to the page, which encrypts the entry with it: no secret, but fixed, so a restarted studio
# reads back what its pages kept. Owning a session is proved by its id, which the store checks (ui.store).
BROWSER_SECRET = "style-studio-session"
_tmp_lock: object = None  # the open, locked file that marks this process's temporary folder as in use


class _Models:
    """Models for stylizing, loaded once per process. Presets are shared by everyone (read-only); a
    session's own models load from the store, checked to belong to that session. Stylizing needs no lock:
    :meth:`studio.StyleModel.stylize` is safe from several threads at once."""

    def __init__(self, store: ModelStore) -> None:
        self._store = store
        self._lock = threading.Lock()  # guards the two caches, not the models
        self._presets: dict[tuple[str, str], studio.StyleModel] = {}
        self._mine: OrderedDict[str, studio.StyleModel] = OrderedDict()

    def get(self, spec: str, use_case: str, session: str | None) -> studio.StyleModel:
        """The model for ``spec``: "preset:NAME", "preset:all" or "mine:KEY" (a model of ``session``)."""
        if spec.startswith("mine:"):
            key = spec.removeprefix("mine:")
            self._store.check(session, key)
            with self._lock:
                if key not in self._mine:
                    self._mine[key] = self._store.load(session, key)
                    while len(self._mine) > USER_MODELS_KEPT:
                        self._mine.popitem(last=False)
                self._mine.move_to_end(key)
                model = self._mine[key]
        else:
            with self._lock:
                if (spec, use_case) not in self._presets:
                    self._presets[(spec, use_case)] = load_spec(spec, use_case)
                model = self._presets[(spec, use_case)]
        return model


def data_folder(path: str | os.PathLike[str] | None = None) -> Path:
    """Where the studio keeps what outlives a request: ``path``, else ``STUDIO_DATA`` (default
    ``~/.local/share/style-studio``). Holds ``store/`` (session models), ``sessions/`` (training checkpoints,
    so a restarted studio resumes them), ``tmp/`` (uploads and results, when run by :func:`launch`) and ``web/``
    (the webcam's model files for the browser)."""
    folder = Path(path) if path else folders().data
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise studio.StudioError(f"cannot use {folder} as the studio's data folder ({exc.strerror})") from None
    return folder.resolve()


def build_app(data_dir: str | os.PathLike[str] | None = None) -> gr.Blocks:
    """The studio, keeping its models and training sessions under ``data_dir`` (see :func:`data_folder`)."""
    catalog = studio.presets()
    data = data_folder(data_dir)
    bounds = limits()  # a malformed STUDIO_* limit stops the start here, with its name
    store = ModelStore(data / "store", bounds.store_bytes, bounds.session_bytes, runs=data / "sessions")
    models = _Models(store)
    fixed = preview_tab.preset_choices(catalog)

    def choices(sid: str | None) -> list[tuple[str, str]]:
        """The styles a session can pick: its own models, then the presets."""
        mine = [(f"Yours: {e.label}", f"mine:{e.key}") for e in store.entries(sid)] if sid else []
        return [*mine, *fixed]

    sample = sample_photo()
    demo = blank_page()
    with demo:
        gr.Markdown(HEADER, elem_id="header")
        kept = gr.BrowserState(None, storage_key=BROWSER_KEY, secret=BROWSER_SECRET)
        with gr.Tabs(overflow_behavior="wrap", elem_id="steps") as tabs:  # Create ML's order; wrapped on a phone
            styles = styles_tab.build(catalog, studio.quicklook, models.get, sample)
            weights = styles.weights
            shared = train_tab.build(store, studio.Trainer, studio.Trainer.resume, data / "sessions", bounds)
            session = shared["session"]
            choice, compare = preview_tab.build(catalog, models.get, choices, session, weights)
            output_tab.build(store, session, shared["models"])
            video_style = video_tab.build(catalog, models.get, choices, session, weights, fixed)
            cam_style = webcam_tab.build(catalog, models.get, choices, session, weights, fixed, data / "web")
        styles_tab.lead_to(styles, tabs, choice)  # a picked preset goes on to Preview
        lists = StyleLists(choice, compare, video_style, cam_style)
        show_stored_models(store, choices, shared, lists)
        restore_sessions(demo, store, choices, shared, kept, lists)
    for block in demo.blocks.values():
        if isinstance(block, gr.components.Component) and not block.stateful:
            refuse_quietly(block)
    return demo


def sample_photo() -> str | None:
    """The photo the Styles tab shows a preset on: the first built-in content photo, if there is one."""
    try:
        return str(builtin_content()[0])
    except studio.StudioError:
        return None


def blank_page() -> gr.Blocks:
    """The page, before its tabs: Gradio deletes the files it served after :data:`SERVED_FILE_SECONDS`."""
    sweep = (SERVED_FILE_SECONDS // 4, SERVED_FILE_SECONDS)
    with warnings.catch_warnings():  # css belongs to launch() in Gradio 6; given here, every launch has it
        warnings.filterwarnings("ignore", "The parameters have been moved", UserWarning)
        return gr.Blocks(title="Style Studio", delete_cache=sweep, css=PAGE_CSS)


@dataclass(frozen=True)
class StyleLists:
    """The dropdowns that pick a style: Preview's style and its comparison, Video's and Webcam's."""

    choice: gr.Dropdown
    compare: gr.Dropdown
    video: gr.Dropdown
    webcam: gr.Dropdown

    @property
    def all(self) -> list[gr.Dropdown]:
        return [self.choice, self.compare, self.video, self.webcam]

    @property
    def pickers(self) -> list[gr.Dropdown]:
        """The lists whose pick the store remembers (not the comparison)."""
        return [self.choice, self.video, self.webcam]


def refilled(options: list[tuple[str, str]], pick: str | None, values: tuple[str, ...]) -> tuple[Any, ...]:
    """:class:`StyleLists`' new contents: ``options`` everywhere (and the photo itself as a comparison), ``pick``
    picked where given, else each list's current value (``values``, in :attr:`StyleLists.all`'s order)."""
    current, other, *rest = values
    return (
        gr.Dropdown(choices=options, value=pick or current),
        gr.Dropdown(choices=[("The photo (before / after)", preview_tab.BEFORE), *options], value=other),
        *(gr.Dropdown(choices=options, value=pick or v) for v in rest),
    )


Choices = Callable[[str | None], list[tuple[str, str]]]


def show_stored_models(store: ModelStore, choices: Choices, shared: dict[str, Any], lists: StyleLists) -> None:
    """When the session stores a model (training ends, train more, snapshot), every style list shows it; a
    finished training also becomes the current choice."""

    def refresh(sid: str | None, trained: bool, shown: str | None, *values: str) -> tuple[Any, ...]:
        options = choices(sid)
        mine = [v for _, v in options if v.startswith("mine:")]
        # a training stored a model when Output shows the newest (one stopped before its first step, none)
        new = mine[-1] if trained and mine and mine[-1] == f"mine:{shown}" else None
        if new:
            store.select(sid, new)  # a finished training is the session's pick, after a reload too
        return refilled(options, new, values)

    for event, trained in zip(shared["stored"], (True, True, True, False), strict=True):
        event.then(
            lambda sid, *values, t=trained: refresh(sid, t, *values),
            [shared["session"], shared["models"], *lists.all],
            lists.all,
            api_visibility="private",
        )


def restore_sessions(
    demo: gr.Blocks,
    store: ModelStore,
    choices: Choices,
    shared: dict[str, Any],
    kept: gr.BrowserState,
    lists: StyleLists,
) -> None:
    """The session id is kept in the browser (``kept``), so a reload or a restarted studio finds its models; the
    lists are filled once the session is back. Picks made in any list are remembered by the store."""

    def restored(sid: str | None, *values: str) -> tuple[Any, ...]:
        """Page load: every list offers the session's models, with its last pick (else its newest model)
        picked again; Output picks the last picked model, else the newest."""
        options = choices(sid)
        offered = {v for _, v in options}
        style, key = store.selection(sid)
        own = [e.key for e in store.entries(sid)]
        key = key or (own[-1] if own else None)
        pick = style if style in offered else (f"mine:{key}" if key else None)
        models = gr.Dropdown(choices=[(e.label, e.key) for e in store.entries(sid)], value=key)
        return (*refilled(options, pick, values), models)

    session = shared["session"]
    restore, outputs = shared["load"]
    demo.load(restore, [session, kept], outputs, api_visibility="private").then(
        restored, [session, *lists.all], [*lists.all, shared["models"]], api_visibility="private"
    )
    session.change(lambda sid: sid or None, session, kept, api_visibility="private")
    for box in (*lists.pickers, shared["models"]):
        box.input(store.select, [session, box], None, queue=False, api_visibility="private")


def launch() -> None:
    """Serve on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT (default 0.0.0.0:7860), everything written under the
    data folder (:func:`data_folder`): temporary files and Gradio's uploads go to its ``tmp/``."""
    try:
        check_all()  # a malformed STUDIO_* setting stops the start, before anything is built or served
        data = data_folder()
        bounds = limits()
    except studio.StudioError as exc:
        raise SystemExit(f"error: {exc}") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    tmp = process_tmp(data / "tmp")
    tempfile.tempdir = str(tmp)  # the engine's and the tabs' temporary files
    os.environ["GRADIO_TEMP_DIR"] = str(tmp / "gradio")  # uploads and the results Gradio serves
    demo = build_app(data)
    start_warm_up()
    demo.queue(default_concurrency_limit=2).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=bounds.upload_bytes,
    )


def start_warm_up() -> threading.Thread | None:
    """On a CUDA GPU of its own (not ZeroGPU's, lent per call), pay the first training's one-off costs in the
    background while the page loads (:func:`studio.train.warmup.warm_up`); returns the thread, if any."""
    import torch

    if not torch.cuda.is_available() or on_zerogpu():
        return None

    def run() -> None:
        try:
            took = warm_up()
            logging.getLogger("studio.ui").info("GPU warmed up for training in %.1f s", took)
        except Exception as exc:  # a failed warm-up costs the first user a few seconds, nothing more
            logging.getLogger("studio.ui").warning("GPU warm-up failed: %s", exc)

    thread = threading.Thread(target=run, name="studio-warm-up", daemon=True)
    thread.start()
    return thread


def process_tmp(root: Path) -> Path:
    """This process's temporary folder under ``root``, after sweeping what dead processes left there.

    Each process works in ``root/proc-*``, holding an exclusive lock on its ``.lock`` file for its whole
    life (the kernel drops the lock when the process dies, however it dies). A start removes every folder
    whose lock it can take, and anything else in ``root`` older than a minute (older layouts, strays), so a
    crash's uploads, results and half-made files never outlive the next start, while other live processes
    sharing the data folder keep theirs.
    """
    global _tmp_lock
    root.mkdir(parents=True, exist_ok=True)
    for entry in root.iterdir():
        if entry.name.startswith("proc-") and entry.is_dir():
            if _lock_free(entry / ".lock"):
                shutil.rmtree(entry, ignore_errors=True)
        elif time.time() - entry.lstat().st_mtime > 60:  # a folder just being set up by another process: spared
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    # Made under another name and locked before it is named proc-*: a sweep never sees it unlocked.
    name = uuid.uuid4().hex[:12]
    staging = root / f".new-{name}"
    (staging / "gradio").mkdir(parents=True)
    _tmp_lock = _hold_lock(staging / ".lock")
    mine = staging.rename(root / f"proc-{name}")
    return mine


def _lock_free(path: Path) -> bool:
    """Whether no live process holds ``path``'s lock (a missing lock file: a folder from a crash mid-setup)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no way to tell; leave it
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _hold_lock(path: Path) -> object:
    f = open(path, "a")  # noqa: SIM115 - held open (and locked) for the life of the process
    try:
        import fcntl

        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:
        pass
    return f

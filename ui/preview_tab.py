"""Preview: drop a photo (or take a sample), pick your trained model, one of its snapshots, a preset or a blend
of presets; the result follows every change, a quick draft first on a CPU (:func:`studio.preview`); compare
before and after (or two models) on a slider, and download it as ``<photo>-<style>.png``."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from studio import Preset, StudioError, StyleModel, preview
from studio.infer.preview import result_name, sample_photos
from studio.io.media import open_image
from studio.progress import Cancelled

from .common import download_file, image_path, refuse, request_folder, user_errors
from .gpu import on_gpu

BEFORE = "before"  # the compare choice that shows the photo itself
BLEND = "blend"  # the style choice that mixes presets with the Styles tab's weights
NO_PHOTO = "Drop a photo above, or click a sample: the result appears here."
# (spec, use case, session id) -> (model, stylize); spec is "preset:NAME", "preset:all" or "mine:KEY"
ModelLoader = Callable[[str, str, "str | None"], StyleModel]
Choices = Callable[["str | None"], list[tuple[str, str]]]
# The before/after handle of gr.ImageSlider takes only a mouse or a finger: this makes it a keyboard slider
# too (Tab to it; arrows, Page Up/Down, Home/End), moving it through the same drag events the mouse sends.
HANDLE_KEYS = """
const step = {ArrowLeft: -0.05, ArrowDown: -0.05, ArrowRight: 0.05, ArrowUp: 0.05, PageDown: -0.25, PageUp: 0.25};
const handleOf = () => document.querySelector('#preview-result [data-testid="slider"]');
const label = (h) => {
  const box = h.parentElement.getBoundingClientRect(), at = h.getBoundingClientRect();
  const pos = Math.round(100 * (at.left + at.width / 2 - box.left) / Math.max(1, box.width));
  h.setAttribute('aria-valuenow', String(Math.min(100, Math.max(0, pos))));
  return {box, at};
};
const mark = () => {
  const h = handleOf();
  if (!h || h.dataset.keys) return;
  h.dataset.keys = '1';
  h.tabIndex = 0;
  h.setAttribute('role', 'slider');
  h.setAttribute('aria-label', 'Before / after divider');
  h.setAttribute('aria-valuemin', '0');
  h.setAttribute('aria-valuemax', '100');
  h.addEventListener('focus', () => label(h));
  h.addEventListener('keydown', (e) => {
    const {box, at} = label(h);
    const x0 = at.left + at.width / 2, y = at.top + at.height / 2;
    let x = x0 + (step[e.key] ?? 0) * box.width;
    if (e.key === 'Home') x = box.left + 1;
    if (e.key === 'End') x = box.right - 1;
    if (x === x0) return;
    e.preventDefault();
    const send = (type, target, cx) => target.dispatchEvent(new MouseEvent(type, {
      bubbles: true, cancelable: true, view: window, button: 0, buttons: type === 'mouseup' ? 0 : 1,
      clientX: cx, clientY: y}));
    send('mousedown', h, x0);
    send('mousemove', window, Math.min(box.right - 1, Math.max(box.left + 1, x)));
    send('mouseup', window, x);
    requestAnimationFrame(() => label(h));
  });
};
new MutationObserver(mark).observe(document.body, {childList: true, subtree: true});
mark();
"""


def preset_choices(catalog: Sequence[Preset]) -> list[tuple[str, str]]:
    return [(f"Preset: {p.title}", f"preset:{p.name}") for p in catalog] + [
        ("Blend of presets (weights in Styles)", BLEND)
    ]


def pick_model(
    catalog: Sequence[Preset],
    load_model: ModelLoader,
    choices: Choices,
    sid: str | None,
    spec: str,
    case: str,
    blend: Sequence[float],
) -> tuple[StyleModel, object]:
    """(model, style) for a style choice: ``preset:NAME``, ``mine:KEY`` or ``blend``."""
    if spec not in {v for _, v in choices(sid)}:
        raise refuse(f"unknown style {str(spec)[:100]!r}: pick one of the list (your models, presets, blend)")
    style: object = None
    if spec == BLEND:
        style = {p.name: float(w) for p, w in zip(catalog, blend, strict=True) if w > 0}
        if not style:
            raise refuse("Set at least one blend weight above zero (Styles tab, Blend presets).")
        spec = "preset:all"
    return load_model(spec, case, sid), style


def style_name(spec: str, label: str) -> str:
    """The style's part of a download's name: the preset's name, "blend", or the model's label."""
    if spec.startswith("preset:"):
        return spec.removeprefix("preset:")
    return "blend" if spec == BLEND else label.removeprefix("Yours: ")


def build(
    catalog: Sequence[Preset],
    load_model: ModelLoader,
    choices: Choices,
    session: Any,
    blend_weights: Sequence[Any],
) -> tuple[Any, Any]:
    """Returns the two model dropdowns, so the app can refresh them when the session stores a model."""
    with gr.Tab("Preview", id="preview") as tab:
        ui = _layout(preset_choices(catalog))
        gr.HTML("", js_on_load=HANDLE_KEYS, padding=False, container=False, elem_id="preview-keys")
        stylize = Stylize(catalog, load_model, choices)
        gr.on(
            [
                ui.photo.change,
                ui.choice.change,
                ui.compare.change,
                ui.use_case.change,
                ui.keep_color.change,
                ui.intensity.release,
                ui.max_side.release,
                tab.select,
            ],
            on_gpu(60)(stylize.run),  # a method: Gradio sees a generator function
            [
                session,
                ui.photo,
                ui.choice,
                ui.compare,
                ui.use_case,
                ui.intensity,
                ui.keep_color,
                ui.max_side,
                *blend_weights,
            ],
            [ui.slider, ui.caption, ui.download],
            api_name="stylize",
            # Every change runs at once, and the run it overtakes stops within a layer of the network (Latest,
            # studio.preview's cancel): "always_last" would hold a change back until the result under way is
            # done, seconds on a CPU, and Gradio's cancel cannot stop a thread that computes.
            trigger_mode="multiple",
            concurrency_limit=2,
            concurrency_id="preview",
            show_progress="minimal",  # the draft stays visible while the result is made
        )
    return ui.choice, ui.compare


@dataclass(frozen=True)
class _Controls:
    """The tab's components."""

    slider: Any
    caption: Any
    download: Any
    choice: Any
    photo: Any
    compare: Any
    intensity: Any
    max_side: Any
    use_case: Any
    keep_color: Any


def _layout(first: list[tuple[str, str]]) -> _Controls:
    """The result first: beside the controls on a desktop, at the top on a phone (where columns stack)."""
    try:
        samples = [str(p) for p in sample_photos()]
    except StudioError:  # scikit-image missing: no samples, the rest works
        samples = []
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            slider = gr.ImageSlider(
                label="Before / after (drag, or Tab + arrow keys)",
                type="pil",
                format="png",
                elem_id="preview-result",
                max_height=520,
            )
            caption = gr.Markdown(NO_PHOTO, elem_id="preview-caption")
            download = gr.File(
                label="Download (named after the photo and the style)", elem_id="preview-download", height=90
            )
        with gr.Column(scale=2, min_width=300):
            # allow_custom_value: the choices grow per session; stylize() checks the value itself
            choice = gr.Dropdown(
                first,
                value=first[0][1],
                label="Style: your models and snapshots, presets",
                allow_custom_value=True,
                elem_id="preview-style",
            )
            # the upload's path: the engine decodes it (its pixel limit, HEIC, one-line errors)
            photo = image_path(
                value=samples[0] if samples else None,
                label="Photo: drop yours, or click a sample",
                sources=["upload", "clipboard", "webcam"],
                elem_id="preview-photo",
                height=220,
            )
            if samples:
                gr.Examples([[p] for p in samples], [photo], label="Samples", elem_id="preview-samples")
            compare = gr.Dropdown(
                [("The photo (before / after)", BEFORE), *first],
                value=BEFORE,
                label="Compare with",
                allow_custom_value=True,
                elem_id="preview-compare",
            )
            intensity = gr.Slider(0, 1, value=1, step=0.05, label="Intensity")
            max_side = gr.Slider(256, 4096, value=1536, step=64, label="Longest side of the result (px)")
            with gr.Row():
                use_case = gr.Radio(
                    ["image", "video"],
                    value="image",
                    label="Preset model",
                    info="image: finer; video: faster",
                    min_width=140,
                )
                keep_color = gr.Checkbox(label="Preserve the photo's colours", min_width=140)
    return _Controls(slider, caption, download, choice, photo, compare, intensity, max_side, use_case, keep_color)


class Stylize:
    """The tab's handler: the chosen style (and the one compared with) on the photo, a draft first on a CPU,
    then the result with its download. A request overtaken by a newer one from the same page stops without
    showing anything more."""

    def __init__(self, catalog: Sequence[Preset], load_model: ModelLoader, choices: Choices) -> None:
        self.catalog, self.load_model, self.choices = catalog, load_model, choices
        self.latest = Latest()

    def run(
        self,
        request: gr.Request,
        sid: str | None,
        path: str | None,
        spec: str,
        other: str,
        case: str,
        amount: float,
        keep: bool,
        side: float,
        *blend: float,
    ) -> Iterator[tuple[Any, str, Any]]:
        # The PNG to download lives in this request's folder until Gradio has copied it, then the folder goes
        # (see request_folder). A client that waits for the end gets the result, as from a function.
        page = getattr(request, "session_hash", None)
        overtaken = self.latest.start(page)
        if not path:
            yield None, NO_PHOTO, None
            return
        names = dict((v, k) for k, v in [*self.choices(sid), ("The photo", BEFORE)])
        title = f"Left: **{names.get(other, other)}** · right: **{names[spec]}**" if spec in names else ""
        with user_errors(), contextlib.suppress(Cancelled):  # Cancelled: overtaken before its first picture
            image = open_image(path)
            settings = (case, image, amount, keep, side, blend, overtaken)
            steps = [_steps(self.catalog, self.load_model, self.choices, sid, spec, *settings)]
            if other != BEFORE:
                steps.append(_steps(self.catalog, self.load_model, self.choices, sid, other, *settings))
            with request_folder() as folder:
                for pictures in _together(steps):
                    if overtaken.is_set():
                        return
                    right, final = pictures[0]
                    left = pictures[1][0] if len(pictures) > 1 else image.convert("RGB")
                    left = left.resize(right.size)
                    if not final:  # quick to write and to send; the download waits for the result
                        shown = (_jpeg(left, folder / "draft-before.jpg"), _jpeg(right, folder / "draft.jpg"))
                        yield shown, f"{title} · *draft, refining…*", None
                        continue
                    name = Path(result_name(Path(path).name, style_name(spec, names[spec]))).stem
                    after = download_file(right, name, folder)
                    yield (download_file(left, "before", folder), after), title, after


class Latest:
    """The newest preview request of each page (by Gradio's session hash), so an older one can tell it has
    been overtaken."""

    KEPT = 1024  # pages remembered; a forgotten page's request just counts as the newest

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._newest: OrderedDict[str | None, int] = OrderedDict()

    def start(self, page: str | None) -> Overtaken:
        """A new request of ``page``: the flag that says when a newer one has started."""
        with self._lock:
            self._count += 1
            self._newest[page] = self._count
            self._newest.move_to_end(page)
            while len(self._newest) > self.KEPT:
                self._newest.popitem(last=False)
            return Overtaken(self, page, self._count)

    def current(self, page: str | None, ticket: int) -> bool:
        with self._lock:
            return self._newest.get(page, ticket) == ticket


@dataclass(frozen=True)
class Overtaken:
    """Set once a newer request of the same page started: a :class:`studio.progress.Flag` for
    :func:`studio.preview`'s ``cancel``."""

    latest: Latest
    page: str | None
    ticket: int

    def is_set(self) -> bool:
        return not self.latest.current(self.page, self.ticket)


def _steps(
    catalog: Sequence[Preset],
    load_model: ModelLoader,
    choices: Choices,
    sid: str | None,
    spec: str,
    case: str,
    image: Image.Image,
    amount: float,
    keep: bool,
    side: float,
    blend: Sequence[float],
    overtaken: Overtaken,
) -> Iterator[tuple[Image.Image, bool]]:
    """(picture, final) for one style choice: a draft, then the result. A preset's draft comes from its video
    model (same style, ~15x faster on a CPU); other models draft at a smaller size."""
    model, style = pick_model(catalog, load_model, choices, sid, spec, case, blend)
    draft = None
    if spec.startswith("preset:") or spec == BLEND:
        draft_spec = "preset:all" if spec == BLEND else spec
        draft = load_model(draft_spec, "video", sid) if case == "image" else None
    steps = preview(
        model,
        image,
        style,
        intensity=float(amount),
        preserve_color=bool(keep),
        max_size=int(side),
        draft_model=draft,
        cancel=overtaken,
    )
    for step in steps:
        yield step.image, step.final


def _together(steps: list[Iterator[tuple[Image.Image, bool]]]) -> Iterator[list[tuple[Image.Image, bool]]]:
    """Step several previews side by side: all drafts, then all results (a preview without a draft repeats
    its result as its draft, once the others have one). Ends early when one of them was stopped."""
    current: list[tuple[Image.Image, bool]] = []
    for it in steps:
        step = next(it, None)
        if step is None:
            return
        current.append(step)
    if not all(final for _, final in current):
        yield list(current)
        for i, it in enumerate(steps):
            if not current[i][1]:
                step = next(it, None)
                if step is None:
                    return
                current[i] = step
    yield current


def _jpeg(image: Image.Image, path: Path) -> str:
    image.convert("RGB").save(path, quality=85)
    return str(path)

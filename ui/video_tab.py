"""Video: stylize a clip with your model, a preset or a blend; steadier with stabilization; sound kept."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from studio import Preset, StudioError, describe_seconds
from studio.infer.temporal import STABILIZE_DEFAULT
from studio.infer.video import VideoProgress, stylize_video
from studio.limits import limits
from studio.progress import Cancelled

from .common import refuse, user_errors
from .gpu import on_gpu
from .preview_tab import ModelLoader, pick_model
from .streaming import Streamed, clock

UPDATE_SECONDS = 0.25  # at most four status updates a second (a GPU stylizes far more frames)


def attempt(job: Callable[[], Path], folder: Path) -> Path | Exception:
    """``job()``, or the exception it raised; on any failure (cancellation too) ``folder``, the job's own
    fresh temporary folder, is removed: nothing half-made stays in the server's temp space.
    (:func:`stylize_video` already removes its temporary output; this takes the empty folder with it.)"""
    try:
        return job()
    except Exception as exc:  # reported by the caller  # noqa: BLE001
        shutil.rmtree(folder, ignore_errors=True)
        return exc
    except BaseException:  # not ours to report (interpreter exit): clean up all the same
        shutil.rmtree(folder, ignore_errors=True)
        raise


def progress_text(p: VideoProgress) -> str:
    """The status while stylizing: "Frame 120 of 300 · 40 s · about 1 min left"."""
    total = f" of {p.frames}" if p.frames else ""
    eta = f" · {describe_seconds(p.eta)} left" if p.eta is not None else ""
    return f"Frame {p.frame}{total} · {clock(p.elapsed)}{eta}"


def failure(exc: Exception) -> gr.Error:
    """The message a failed or cancelled video shows."""
    if isinstance(exc, Cancelled):
        return gr.Error("Cancelled.", print_exception=False)
    if isinstance(exc, StudioError):
        return refuse(str(exc))
    return gr.Error(f"video failed: {exc}")


def build(
    catalog: Sequence[Preset],
    load_model: ModelLoader,
    choices: Callable[[str | None], list[tuple[str, str]]],
    session: Any,
    blend_weights: Sequence[Any],
    initial: list[tuple[str, str]],
) -> Any:
    """Returns the style dropdown, for the app to refresh when the session stores a model."""
    with gr.Tab("Video", id="video"):
        with gr.Row():
            with gr.Column(scale=1):
                clip = gr.Video(label="Video (mp4, mov, webm, mkv, avi)", sources=["upload"], elem_id="video-in")
                style = gr.Dropdown(
                    initial, value=initial[0][1], label="Style", allow_custom_value=True, elem_id="video-style"
                )
                use_case = gr.Radio(
                    ["video", "image"],
                    value="video",
                    label="Preset model",
                    info="presets and blends only: video = the fast model",
                )
                stabilize = gr.Slider(
                    0,
                    0.9,
                    value=STABILIZE_DEFAULT,
                    step=0.05,
                    label="Stabilize (0 = off)",
                    info="blends each frame with the last along the motion",
                )
                intensity = gr.Slider(0, 1, value=1, step=0.05, label="Intensity")
                keep_color = gr.Checkbox(label="Preserve the video's colours")
                max_side = gr.Slider(128, 3840, value=1280, step=32, label="Longest side of the result (px)")
                with gr.Row():
                    go = gr.Button("Stylize video", variant="primary", elem_id="video-go")
                    cancel = gr.Button("Cancel", elem_id="video-cancel")
            with gr.Column(scale=2):
                status = gr.Markdown(elem_id="video-status")
                result = gr.Video(label="Stylized (H.264, sound kept)", interactive=False, elem_id="video-out")

        inputs = [session, clip, style, use_case, stabilize, intensity, keep_color, max_side, *blend_weights]
        gpu = on_gpu(limits().video_seconds + 120)  # ZeroGPU: about real time at worst, plus loading
        event = go.click(
            gpu(_runner(catalog, load_model, choices)),
            inputs,
            [status, result],
            api_name="video",
            concurrency_limit=1,
            concurrency_id="video",
        )
        # Cancel stops the job (its generator is closed: the worker stops at its next frame) and says so
        cancel.click(
            lambda: ("Cancelled.", None), None, [status, result], cancels=[event], queue=False, api_visibility="private"
        )
    return style


def _runner(
    catalog: Sequence[Preset], load_model: ModelLoader, choices: Callable[[str | None], list[tuple[str, str]]]
) -> Callable[..., Iterator[tuple[str, Any]]]:
    """The Stylize button's handler: the job runs in a worker thread, its progress streams to the status."""

    def run(
        sid: str | None,
        path: str | None,
        spec: str,
        case: str,
        strength: float,
        amount: float,
        keep: bool,
        side: float,
        *blend: float,
    ) -> Iterator[tuple[str, Any]]:
        if not path:
            raise gr.Error("Upload a video first.")
        with user_errors():
            model, mix = pick_model(catalog, load_model, choices, sid, spec, case, blend)
        out = Path(tempfile.mkdtemp(prefix="studio-video-")) / f"{Path(path).stem}-stylized.mp4"

        def work(report: Callable[[VideoProgress], bool]) -> Path | Exception:
            # report says False once the page left or cancelled: it stops at the next frame, writes nothing
            return attempt(
                lambda: stylize_video(
                    model,
                    path,
                    out,
                    style=mix,
                    intensity=float(amount),
                    preserve_color=bool(keep),
                    max_size=int(side),
                    stabilize=float(strength),
                    on_progress=report,
                ),
                out.parent,
            )

        job: Streamed[VideoProgress, Path | Exception] = Streamed(work)
        yield "Reading the video…", None  # the last result goes at once: it is not this one
        for batch in job.updates(every=UPDATE_SECONDS):
            yield progress_text(batch[-1]), gr.update()
        done = job.outcome
        if isinstance(done, Exception):
            raise failure(done)
        yield "Done: H.264 mp4 with the original sound.", str(done)

    return run

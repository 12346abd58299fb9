"""Temporal stability for stylized video, and the warping error that measures it.

Stylizing frames one by one flickers: small changes in the input (sensor noise, compression, lighting)
make the network pick different strokes in every frame. :class:`Stabilizer` follows the idea of Ruder et
al. 2016 ("Artistic Style Transfer for Videos") without their per-frame optimisation: the previous
*output* is warped into the current frame along the optical flow of the *source* video, and blended with
the current stylized frame wherever the flow is trustworthy. Untrustworthy pixels (occlusions, motion
boundaries, leaving the picture) are found, as in that paper, by forward-backward consistency: the
backward flow at a pixel and the forward flow where it lands must cancel out. A scene cut resets it.

Blending two renderings whose strokes do not line up averages the strokes away: the result is softer than
either, and its style statistics drift from the painting's (the style loss rises). Two things keep the
strokes: the previous output is warped with bicubic, not bilinear, sampling (it is resampled again every
frame, and bilinear sampling blurs a little each time); and after the blend, the detail band (the image
minus a Gaussian blur of it) is scaled back to the current stylized frame's local energy, the idea of Heitz
and Neyret 2018's variance-preserving blending. Where the two frames agree the gain is 1; where their
strokes disagree it restores the contrast that averaging took, up to ``GAIN_MAX``.

Flow is OpenCV's DIS (Kroeger et al. 2016) on a downscaled grey image: fast on a CPU. The warping error of
:func:`warping_error` uses a different method, Farneback's, so the measure does not grade the stabilizer's
own flow against itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from studio.errors import StudioError

FLOW_SIDE = 480  # flow is computed with the longer side scaled to this (it is smooth; full size buys little)
# Measured on cutBunny with the 8-16-32 video net (bench/video_stability.py; see the README for the table).
STABILIZE_DEFAULT = 0.6
DETAIL_SIGMA = 2.0  # px: the detail band whose energy is restored (the video net's strokes are a few px wide)
GAIN_MAX = 1.6  # at most this much contrast is given back to the blend's detail band
CUT_VALID_SHARE = 0.4  # fewer trustworthy pixels than this: a scene cut, start again


def _grey(rgb: np.ndarray, scale: float) -> np.ndarray:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale != 1.0:
        h, w = grey.shape
        grey = cv2.resize(grey, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    return grey


def _upscale_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a flow field to ``size`` (w, h), scaling its vectors too."""
    h0, w0 = flow.shape[:2]
    w, h = size
    if (w0, h0) == (w, h):
        return flow
    out = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
    out[..., 0] *= w / w0
    out[..., 1] *= h / h0
    return out


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))


def warp(image: np.ndarray, flow: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Sample ``image`` at x + flow(x): with the backward flow (t -> t-1), brings frame t-1 onto frame t."""
    h, w = flow.shape[:2]
    gx, gy = _grid(h, w)
    return cv2.remap(image, gx + flow[..., 0], gy + flow[..., 1], interpolation, borderMode=cv2.BORDER_REPLICATE)


def restore_detail(blend: np.ndarray, reference: np.ndarray, gain_max: float = GAIN_MAX) -> np.ndarray:
    """Scale the detail band of ``blend`` ((H, W, 3) float32) back up to ``reference``'s local energy.

    Detail = image - GaussianBlur(image, DETAIL_SIGMA). Its energy (summed over RGB) is averaged over a
    window four times wider, computed at a quarter of the size (it is smooth; a quarter of the work), and the
    gain sqrt(reference / blend) is kept in [1, gain_max]: detail is raised towards the reference's local
    energy, never above it, and never lowered.
    """
    h, w = blend.shape[:2]
    kernel = (2 * int(np.ceil(3 * DETAIL_SIGMA)) + 1,) * 2  # +-3 sigma (OpenCV's default for floats is +-4)
    low = cv2.GaussianBlur(blend, kernel, DETAIL_SIGMA)
    detail = blend - low
    ref_detail = reference - cv2.GaussianBlur(reference, kernel, DETAIL_SIGMA)
    small = (max(1, w // 4), max(1, h // 4))
    rgb_sum = np.ones((1, 3), np.float32)

    def energy(d: np.ndarray) -> np.ndarray:  # (h/4, w/4) local mean of the squared detail, summed over RGB
        e = cv2.transform(d * d, rgb_sum)  # numpy's sum over a last axis of 3 is several times slower
        return cv2.GaussianBlur(cv2.resize(e, small, interpolation=cv2.INTER_AREA), (0, 0), DETAIL_SIGMA)

    gain = np.clip(np.sqrt((energy(ref_detail) + 1.0) / (energy(detail) + 1.0)), 1.0, gain_max)  # +1: flat stays
    return low + detail * cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]


def consistent(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Bool (H, W): pixels whose backward flow is confirmed by the forward flow (Ruder et al. 2016, eq. 6);
    pixels whose flow leaves the picture are not."""
    h, w = backward.shape[:2]
    gx, gy = _grid(h, w)
    fwd_at = warp(forward, backward)  # forward flow where each pixel lands in the previous frame
    total = backward + fwd_at
    ok = (total**2).sum(-1) <= 0.01 * ((backward**2).sum(-1) + (fwd_at**2).sum(-1)) + 0.5
    x, y = gx + backward[..., 0], gy + backward[..., 1]
    return ok & (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)


class Stabilizer:
    """Feed it each source frame with its stylized frame, in order; it returns the stabilized frame.

    ``strength`` (0..1) is how much of the warped previous output is kept where the flow holds: higher is
    steadier, lower follows the per-frame stylization more closely (and so its texture).
    """

    def __init__(self, strength: float = STABILIZE_DEFAULT, flow_side: int = FLOW_SIDE) -> None:
        if not 0.0 <= strength < 1.0:
            raise StudioError(f"stabilize strength must be in [0, 1), got {strength!r}")
        self.strength = strength
        self.flow_side = flow_side
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._prev_grey: np.ndarray | None = None
        self._prev_out: np.ndarray | None = None
        self.cuts = 0  # scene cuts seen (the stabilizer restarted there)

    def reset(self) -> None:
        self._prev_grey = self._prev_out = None

    def __call__(self, source: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 source and stylized frames -> (H, W, 3) uint8."""
        h, w = source.shape[:2]
        scale = min(1.0, self.flow_side / max(h, w))
        grey = _grey(source, scale)
        prev_grey, prev_out = self._prev_grey, self._prev_out
        self._prev_grey = grey
        if prev_grey is None or prev_out is None or prev_grey.shape != grey.shape or prev_out.shape != stylized.shape:
            self._prev_out = stylized
            return stylized
        backward = self._dis.calc(grey, prev_grey, None)  # (h', w', 2): frame t -> t-1
        forward = self._dis.calc(prev_grey, grey, None)
        valid = consistent(backward, forward)
        if valid.mean() < CUT_VALID_SHARE:
            self.cuts += 1
            self._prev_out = stylized
            return stylized
        # soft mask at full size: blurred so trusted and untrusted regions meet without a seam
        mask = cv2.resize(valid.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=max(1.0, 1.5 / scale))
        warped = warp(prev_out.astype(np.float32), _upscale_flow(backward, (w, h)), cv2.INTER_CUBIC)
        keep = (self.strength * mask)[..., None]
        fresh = stylized.astype(np.float32)
        out = restore_detail(fresh * (1.0 - keep) + warped * keep, fresh)
        result = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        self._prev_out = result
        return result


def warping_error(
    prev_source: np.ndarray, source: np.ndarray, prev_out: np.ndarray, out: np.ndarray
) -> tuple[float, int]:
    """Sum of squared differences (0..1 scale) between ``out`` and ``prev_out`` warped along the source's
    Farneback flow, over consistent pixels; and how many pixels that was (for a weighted mean)."""
    a = cv2.cvtColor(prev_source, cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(source, cv2.COLOR_RGB2GRAY)
    args = (None, 0.5, 4, 21, 3, 5, 1.1, 0)  # pyramid scale, levels, window, iterations, poly_n, poly_sigma
    backward = cv2.calcOpticalFlowFarneback(b, a, *args)
    forward = cv2.calcOpticalFlowFarneback(a, b, *args)
    valid = consistent(backward, forward)
    warped = warp(prev_out.astype(np.float32), backward)
    diff = ((out.astype(np.float32) - warped) / 255.0) ** 2
    return float(diff.sum(-1)[valid].sum()), int(valid.sum())


def mean_warping_error(sources: Sequence[np.ndarray], outputs: Sequence[np.ndarray]) -> float:
    """The warping error of a whole clip: per consistent pixel, over every pair of consecutive frames."""
    if len(sources) != len(outputs) or len(sources) < 2:
        raise StudioError(f"need two or more source and output frames in pairs, got {len(sources)} and {len(outputs)}")
    total = count = 0.0
    for i in range(1, len(sources)):
        s, n = warping_error(sources[i - 1], sources[i], outputs[i - 1], outputs[i])
        total, count = total + s, count + n
    return total / max(count, 1.0)

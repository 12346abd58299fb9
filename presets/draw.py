"""Draw the preset style images: royalty-free, made only by this code, the same pixels every run.

    python presets/draw.py [--size 1024] [--only NAME,NAME] [--out presets]

Each style is a function of a seeded random generator. They are meant to be paintings to learn from, not
patterns: each has a palette, a structure at two or three scales (a style network learns all of them), and
edges of a clear character. Every image is the project's own work, licensed like the code (MIT), so models
trained on them can be used and sold freely.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from scipy.spatial import cKDTree

Array = np.ndarray
SS = 2  # supersampling for antialiased line work


def _hex(*colours: str) -> Array:
    return np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours], np.float32) / 255


def _noise(rng: np.random.Generator, n: int, scale: float, octaves: int = 3) -> Array:
    """Smooth value noise in [0, 1], (n, n): Gaussian-filtered white noise summed over octaves."""
    out = np.zeros((n, n), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        field = ndimage.gaussian_filter(rng.standard_normal((n, n)).astype(np.float32), scale / 2**o, mode="wrap")
        out += amp * field / (field.std() + 1e-8)
        total += amp
        amp *= 0.5
    out /= total
    return (out - out.min()) / (out.max() - out.min() + 1e-8)


def _paper(rng: np.random.Generator, n: int, tint: str = "#f4ecd8", grain: float = 0.04) -> Array:
    base = np.broadcast_to(_hex(tint)[0], (n, n, 3)).copy()
    fibre = _noise(rng, n, 1.5, 2)[..., None] - 0.5
    return np.clip(base + grain * fibre, 0, 1)


def _voronoi(points: Array, n: int) -> tuple[Array, Array]:
    """Nearest-seed label and (second - first) distance for every pixel: the latter is small along borders."""
    yy, xx = np.mgrid[0:n, 0:n]
    tree = cKDTree(points)
    dist, idx = tree.query(np.stack([yy.ravel(), xx.ravel()], 1), k=2)
    return idx[:, 0].reshape(n, n), (dist[:, 1] - dist[:, 0]).reshape(n, n)


def _jittered_grid(rng: np.random.Generator, n: int, cell: float) -> Array:
    k = int(n / cell)
    gy, gx = np.mgrid[0:k, 0:k].astype(np.float32)
    pts = (np.stack([gy, gx], -1).reshape(-1, 2) + rng.uniform(0.15, 0.85, (k * k, 2))) * cell
    return pts


def _canvas(n: int, colour: str) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (n * SS, n * SS), colour)
    return img, ImageDraw.Draw(img)


def _down(img: Image.Image, n: int) -> Array:
    return np.asarray(img.resize((n, n), Image.Resampling.LANCZOS), np.float32) / 255


# --- the styles ----------------------------------------------------------------------------------------------


def voronoi_mosaic(rng: np.random.Generator, n: int) -> Array:
    """Roman mosaic: irregular stone tiles in terracotta, ochre, teal and lapis, set in dark grout."""
    palette = _hex("#b5532f", "#d89a3c", "#e8cf8a", "#2f7f7a", "#1f4e79", "#7a2e3a", "#f1e6d0", "#4b6b3a")
    pts = _jittered_grid(rng, n, n / 38)
    label, edge = _voronoi(pts, n)
    region = _noise(rng, n, n / 6, 2)  # large swirls of colour families, like a figurative floor
    family = (region * len(palette)).astype(int).clip(0, len(palette) - 1)
    pick = np.where(
        rng.random(len(pts)) < 0.75,
        family[pts[:, 0].astype(int), pts[:, 1].astype(int)],
        rng.integers(0, len(palette), len(pts)),
    )
    colour = palette[pick][label] * rng.uniform(0.82, 1.12, (len(pts), 1))[label]
    yy, xx = np.mgrid[0:n, 0:n]
    shade = 1 - 0.18 * ((yy - pts[label, 0]) / (n / 38)).clip(-1, 1)  # each tile catches light from above
    stone = colour * shade[..., None] * (0.92 + 0.16 * _noise(rng, n, 1.2, 2))[..., None]
    grout = np.clip((edge - 2.0) / 2.0, 0, 1)[..., None]
    return np.clip(stone * grout + _hex("#2a2622")[0] * (1 - grout), 0, 1)


def stained_glass(rng: np.random.Generator, n: int) -> Array:
    """Cathedral glass: jewel-coloured panes glowing from their centres, held in thick black lead."""
    palette = _hex("#b3122e", "#1d3f9a", "#0f7a52", "#e3a21a", "#6b2a8c", "#d9541e", "#1895b8")
    pts = rng.uniform(0, n, (130, 2))
    label, edge = _voronoi(pts, n)
    colour = palette[rng.integers(0, len(palette), len(pts))][label]
    yy, xx = np.mgrid[0:n, 0:n]
    d = np.hypot(yy - pts[label, 0], xx - pts[label, 1])
    glow = 1.25 - 0.55 * (d / (d.max() * 0.25)).clip(0, 1)
    streak = 0.85 + 0.3 * _noise(rng, n, 3, 2)  # bubbles and streaks in the glass
    glass = np.clip(colour * glow[..., None] * streak[..., None], 0, 1)
    lead = np.clip((edge - 5.0) / 2.5, 0, 1)[..., None]
    return glass * lead + _hex("#121212")[0] * (1 - lead)


def cracked_ice(rng: np.random.Generator, n: int) -> Array:
    """Frozen lake: blue-white depths split by branching white cracks with dark hairline shadows."""
    depth = _noise(rng, n, n / 5, 3)
    ice = _hex("#0d3b66")[0] * (1 - depth[..., None]) + _hex("#bfe3f2")[0] * depth[..., None]
    img, draw = _canvas(n, "black")
    mask, mdraw = Image.new("L", (n * SS, n * SS), 0), None
    mdraw = ImageDraw.Draw(mask)
    step = n * SS / 70
    for _ in range(14):
        x, y = rng.uniform(0, n * SS, 2)
        angle = rng.uniform(0, 2 * math.pi)
        stack = [(x, y, angle, n * SS / 170, 90)]
        while stack:
            x, y, angle, width, steps = stack.pop()
            for _ in range(steps):
                angle += rng.normal(0, 0.08) + (rng.random() < 0.08) * rng.normal(0, 0.5)  # straight, then a kink
                nx, ny = x + math.cos(angle) * step, y + math.sin(angle) * step
                mdraw.line([(x, y), (nx, ny)], fill=255, width=max(1, int(width)))
                x, y, width = nx, ny, width * 0.99
                if rng.random() < 0.07 and width > 1.2:
                    stack.append((x, y, angle + rng.choice([-1, 1]) * rng.uniform(0.6, 1.3), width * 0.55, 35))
    crack = np.asarray(mask.resize((n, n), Image.Resampling.LANCZOS), np.float32)[..., None] / 255
    shadow = ndimage.gaussian_filter(crack[..., 0], 2.5)[..., None]
    out = ice * (1 - 0.7 * shadow) + crack * _hex("#f7fbff")[0]
    frost = _noise(rng, n, 0.8, 1)[..., None]
    return np.clip(out + 0.08 * (frost - 0.5), 0, 1)


def ink_wash(rng: np.random.Generator, n: int) -> Array:
    """Sumi-e: layered grey washes of mountains in mist, a few confident dark brush strokes, rice paper."""
    paper = _paper(rng, n, "#efe8d8", 0.05)
    out = paper.copy()
    yy, xx = np.mgrid[0:n, 0:n] / n
    for layer in range(4):
        ridge = 0.35 + 0.13 * layer + 0.12 * (_noise(rng, n, n / 10, 2)[0] - 0.5) * 2
        height = ridge[None, :] - 0.08 * np.sin(xx * (3 + layer) * math.pi + rng.uniform(0, 6))
        hill = (yy > height).astype(np.float32)
        hill = ndimage.gaussian_filter(hill, 2 + 6 * (3 - layer))
        wash = hill * (0.25 + 0.18 * layer) * (0.75 + 0.5 * _noise(rng, n, n / 30, 2))
        mist = np.clip((yy - height) * 6, 0, 1) * 0.6  # fades into mist below each ridge
        out = out * (1 - (wash * (1 - mist))[..., None] * 0.9)
    img = Image.fromarray((out * 255).astype(np.uint8)).resize((n * SS, n * SS))
    draw = ImageDraw.Draw(img)
    unit = n * SS / 1024
    for _ in range(7):  # reeds: a round brush pressed hard at the root, lifting off towards the tip
        x, y = rng.uniform(0.05, 0.95) * n * SS, rng.uniform(0.75, 1.05) * n * SS
        angle = -math.pi / 2 + rng.normal(0, 0.3)
        bend = rng.normal(0, 0.012)
        length = int(rng.uniform(120, 220))
        for t in range(length):
            width = 14 * unit * (1 - t / length) ** 0.7 + 1.5 * unit
            tone = int(20 + 50 * t / length)
            draw.ellipse([x - width, y - width, x + width, y + width], fill=(tone, tone, tone + 4))
            x, y = x + math.cos(angle) * 3 * unit, y + math.sin(angle) * 3 * unit
            angle += bend
        for _ in range(3):  # leaves: short, fat in the middle
            lx, ly = x + rng.normal(0, 40) * unit, y + rng.uniform(60, 300) * unit
            la = angle + rng.choice([-1, 1]) * rng.uniform(0.6, 1.1)
            for t in range(60):
                width = 11 * unit * math.sin(math.pi * t / 60) + 1 * unit
                draw.ellipse([lx - width, ly - width, lx + width, ly + width], fill=(25, 25, 30))
                lx, ly = lx + math.cos(la) * 3 * unit, ly + math.sin(la) * 3 * unit
    return _down(img, n)


def pointillism(rng: np.random.Generator, n: int) -> Array:
    """Seurat: a sunny park in thousands of pure-colour dots, complementary dots side by side."""
    field = _noise(rng, n, n / 7, 3)
    sky = _hex("#7fb3e0", "#f2d57a")  # blue above, warm light low in the sky
    yy = np.mgrid[0:n, 0:n][0] / n
    base = np.where(
        (yy < 0.45 + 0.1 * (field - 0.5))[..., None],
        sky[0] * (1 - yy[..., None]) + sky[1] * yy[..., None],
        _hex("#3f7d3a")[0] * (0.6 + 0.6 * field[..., None]),
    )
    img, draw = _canvas(n, "#f6f0e0")
    dots = _hex("#e23b2e", "#f4a81d", "#f7e14b", "#3aa655", "#1f6f3a", "#2c6fbb", "#8ec5ef", "#7b4bb3", "#fbf3dc")
    r = 4.2 * SS * n / 1024
    for _ in range(int(n * n / 20 * (1024 / n) ** 0)):
        y, x = rng.uniform(0, n, 2)
        target = base[int(y), int(x)]
        # pick the palette colour nearest the scene, sometimes its neighbour: optical mixing
        order = np.argsort(((dots - target) ** 2).sum(1))
        c = dots[order[0] if rng.random() < 0.7 else order[1 + rng.integers(0, 2)]]
        cx, cy = x * SS, y * SS
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(int(v * 255) for v in c))
    return _down(img, n)


def woodcut(rng: np.random.Generator, n: int) -> Array:
    """Woodcut print: black lines gouged along the grain, swelling in the shadows, cross-cut in the darkest."""
    tone = 0.15 + 0.85 * _noise(rng, n, n / 7, 3)  # 0 = dark; never solid black, the gouges always show
    flow = _noise(rng, n, n / 4, 2)
    img, draw = _canvas(n, "#f1e7cf")
    spacing = n / 95

    def strokes(angle0: float, limit: float, scale: float) -> None:
        row = -n * 0.5
        cos0, sin0 = math.cos(angle0), math.sin(angle0)
        while row < n * 1.5:
            # start on a line through the centre perpendicular to angle0, walk along the grain
            x, y = n / 2 - sin0 * (row - n / 2) - cos0 * n, n / 2 + cos0 * (row - n / 2) - sin0 * n
            prev = (x * SS, y * SS)
            for _ in range(int(2.2 * n / 3)):
                yi, xi = int(min(max(y, 0), n - 1)), int(min(max(x, 0), n - 1))
                a = angle0 + (flow[yi, xi] - 0.5) * 0.6
                x, y = x + 3 * math.cos(a), y + 3 * math.sin(a)
                t = tone[yi, xi]
                width = ((limit - t) / limit) ** 1.2 * spacing * SS * scale if t < limit else 0.0
                inside = 0 <= x < n and 0 <= y < n
                if width >= 0.8 and inside:
                    draw.line([prev, (x * SS, y * SS)], fill="#15110d", width=max(1, round(width)))
                prev = (x * SS, y * SS)
            row += spacing

    strokes(-0.25, 0.95, 0.72)  # the main grain
    strokes(0.9, 0.4, 0.5)  # cross-cuts where it is darkest
    out = _down(img, n)
    grain = _noise(rng, n, 0.7, 1)[..., None]  # uneven ink and paper fibre
    return np.clip(out + 0.12 * (grain - 0.5), 0, 1)


def neon_lines(rng: np.random.Generator, n: int) -> Array:
    """Neon: glowing magenta, cyan and amber light-tubes curving over a deep night-blue wall."""
    wall = _hex("#0a0a1f")[0] + 0.06 * (_noise(rng, n, n / 4, 2)[..., None] - 0.5)
    light = np.zeros((n, n, 3), np.float32)
    colours = _hex("#ff2fb9", "#20e3ff", "#ffb020", "#7d5cff", "#3dff8b")
    for i in range(16):
        layer = Image.new("L", (n * SS, n * SS), 0)
        draw = ImageDraw.Draw(layer)
        amp, freq, phase = rng.uniform(0.05, 0.25), rng.uniform(1, 4), rng.uniform(0, 6.3)
        offset, tilt = rng.uniform(-0.1, 1.1), rng.uniform(-0.6, 0.6)
        xs = np.linspace(-0.1, 1.1, 400)
        ys = offset + tilt * (xs - 0.5) + amp * np.sin(xs * freq * 2 * math.pi + phase)
        pts = list(zip(xs * n * SS, ys * n * SS, strict=True))
        if i % 2:
            pts = [(y, x) for x, y in pts]
        draw.line(pts, fill=255, width=int(3.5 * SS), joint="curve")
        tube = np.asarray(layer.resize((n, n), Image.Resampling.LANCZOS), np.float32) / 255
        glow = ndimage.gaussian_filter(tube, 6) * 2.2 + ndimage.gaussian_filter(tube, 22) * 3.0
        c = colours[i % len(colours)]
        light += c * glow[..., None] + tube[..., None] * (0.6 + 0.4 * c)  # white-hot core
    return np.clip(wall + light, 0, 1)


def watercolour(rng: np.random.Generator, n: int) -> Array:
    """Watercolour: transparent washes that pool into dark edges and bleed into each other on rough paper."""
    out = _paper(rng, n, "#faf6ec", 0.05)
    pigments = _hex("#e4572e", "#2e86ab", "#f3a712", "#a23b72", "#3b8c5a", "#264653")
    for i in range(22):
        blob = np.zeros((n, n), np.float32)
        cy, cx = rng.uniform(0, n, 2)
        yy, xx = np.mgrid[0:n, 0:n]
        radius = rng.uniform(0.08, 0.22) * n
        warp = _noise(rng, n, n / 12, 2) - 0.5
        blob = (np.hypot(yy - cy, xx - cx) / radius + warp * 1.6 < 1).astype(np.float32)
        blob = ndimage.gaussian_filter(blob, 3)
        edge = np.clip(blob - ndimage.gaussian_filter(blob, 10), 0, 1) * 2.5  # pigment pools at the rim
        density = (blob * (0.35 + 0.3 * _noise(rng, n, 4, 2)) + edge)[..., None] * 0.7
        pigment = pigments[i % len(pigments)]
        out = out * (1 - density * (1 - pigment))  # subtractive, like transparent paint
    return np.clip(out, 0, 1)


def pop_halftone(rng: np.random.Generator, n: int) -> Array:
    """Pop art: flat primaries, big Ben-Day dots, and bold black outlines around simple shapes."""
    img, draw = _canvas(n, "#fff6d6")
    colours = ["#e10600", "#ffd400", "#0057b8", "#ff7eb6", "#00a86b"]
    shapes = []
    for _ in range(11):
        cx, cy, r = rng.uniform(0, n), rng.uniform(0, n), rng.uniform(0.08, 0.22) * n
        colour = colours[rng.integers(0, len(colours))]
        pts = None
        if rng.random() < 0.5:
            k, turn = int(rng.integers(3, 7)), rng.uniform(0, 2 * math.pi)
            angles = [2 * math.pi * j / k + turn for j in range(k)]
            pts = [((cx + r * math.cos(a)) * SS, (cy + r * math.sin(a)) * SS) for a in angles]
        shapes.append((cx, cy, r, colour, pts))
    for cx, cy, r, colour, pts in shapes:
        if pts is None:
            draw.ellipse([(cx - r) * SS, (cy - r) * SS, (cx + r) * SS, (cy + r) * SS], fill=colour)
        else:
            draw.polygon(pts, fill=colour)
    base = np.asarray(img, np.float32) / 255
    # Ben-Day dots over the paper: red dots on a 45-degree grid
    yy, xx = np.mgrid[0 : n * SS, 0 : n * SS] / SS
    u, v = (xx + yy) / math.sqrt(2), (xx - yy) / math.sqrt(2)
    cell = 14.0 * n / 1024
    d = np.hypot((u % cell) - cell / 2, (v % cell) - cell / 2)
    paper = (base.sum(-1) > 2.7)[..., None]
    base = np.where(paper & (d < cell * 0.3)[..., None], _hex("#ff6f61")[0], base)
    out = Image.fromarray((base * 255).astype(np.uint8))
    draw = ImageDraw.Draw(out)
    line = max(2, int(7 * SS * n / 1024))
    for cx, cy, r, _, pts in shapes:  # bold black outlines, drawn over everything
        if pts is None:
            draw.ellipse([(cx - r) * SS, (cy - r) * SS, (cx + r) * SS, (cy + r) * SS], outline="black", width=line)
        else:
            draw.line([*pts, pts[0]], fill="black", width=line, joint="curve")
    return _down(out, n)


def cubist_shards(rng: np.random.Generator, n: int) -> Array:
    """Analytic cubism: a face of overlapping angular planes in ochre, slate and umber, each shaded."""
    palette = _hex("#8c6a43", "#c9a46c", "#5b6770", "#3b3430", "#a65e3a", "#d8c9a3", "#6f7d5c")
    label = np.zeros((n, n), np.int64)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    for _ in range(24):  # each random line splits the plane: the regions are the shards
        a = rng.uniform(0, math.pi)
        c = rng.uniform(0.15, 0.85) * n
        side = (np.cos(a) * (xx - n / 2) + np.sin(a) * (yy - n / 2) + n / 2 - c) > 0
        label = label * 2 % 1_000_003 + side
    _, label = np.unique(label, return_inverse=True)
    label = label.reshape(n, n)
    k = label.max() + 1
    colour = palette[rng.integers(0, len(palette), k)][label]
    ga, gb = rng.uniform(-1, 1, (2, k))
    grad = (ga[label] * (xx / n - 0.5) + gb[label] * (yy / n - 0.5)) * 0.9
    out = colour * (1 + grad[..., None])
    edges = ndimage.morphological_gradient(label, size=3) > 0
    out = np.where(ndimage.binary_dilation(edges, iterations=1)[..., None], out * 0.45, out)
    canvas = 0.9 + 0.2 * _noise(rng, n, 1.0, 2)[..., None]
    return np.clip(out * canvas, 0, 1)


def swirling_sky(rng: np.random.Generator, n: int) -> Array:
    """Expressionist night: short thick strokes of blue and gold whirling round bright vortices."""
    img, draw = _canvas(n, "#1b2f5e")
    centres = rng.uniform(0.1, 0.9, (5, 2)) * n
    spins = rng.choice([-1, 1], 5) * rng.uniform(0.6, 1.0, 5)
    blues, golds = ["#1f3b8a", "#2d5fb3", "#4f86c6", "#93b7e0", "#16265a"], ["#f2c94c", "#f7e08a", "#e9a23b"]
    for _ in range(int(n * n / 140 * 0.6)):
        x, y = rng.uniform(0, n, 2)
        d = np.hypot(centres[:, 0] - x, centres[:, 1] - y)
        near = int(np.argmin(d))
        a = math.atan2(y - centres[near, 1], x - centres[near, 0]) + math.pi / 2 * spins[near]
        gold = d[near] < n * 0.07 * (0.6 + rng.random())
        colour = golds[rng.integers(0, 3)] if gold else blues[rng.integers(0, 5)]
        length = rng.uniform(8, 16) * n / 1024 * 1.6
        pts = []
        for t in range(5):  # a slightly curved stroke
            pts.append(((x + math.cos(a) * length * t / 4) * SS, (y + math.sin(a) * length * t / 4) * SS))
            a += 0.08 * spins[near]
        draw.line(pts, fill=colour, width=max(1, int(rng.uniform(3.0, 5.5) * SS * n / 1024 * 1.4)), joint="curve")
    return _down(img, n)


# Suggested settings per preset: (style strength 1-10, style density 64-1024).
SETTINGS: dict[str, tuple[float, int]] = {
    "voronoi-mosaic": (5, 384),
    "stained-glass": (5, 128),
    "cracked-ice": (4, 256),
    "ink-wash": (2, 512),
    "pointillism": (5, 320),
    "woodcut": (3, 384),
    "neon-lines": (5, 192),
    "watercolour": (4, 192),
    "pop-halftone": (5, 192),
    "cubist-shards": (3, 256),
    "swirling-sky": (5, 256),
}

STYLES: dict[str, Callable[[np.random.Generator, int], Array]] = {
    "voronoi-mosaic": voronoi_mosaic,
    "stained-glass": stained_glass,
    "cracked-ice": cracked_ice,
    "ink-wash": ink_wash,
    "pointillism": pointillism,
    "woodcut": woodcut,
    "neon-lines": neon_lines,
    "watercolour": watercolour,
    "pop-halftone": pop_halftone,
    "cubist-shards": cubist_shards,
    "swirling-sky": swirling_sky,
}


def draw(name: str, size: int = 1024, seed: int = 0) -> Image.Image:
    """The preset style image ``name``: deterministic for a given size and seed."""
    rng = np.random.default_rng([seed, *name.encode()])
    array = STYLES[name](rng, size)
    return Image.fromarray((np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8))


def preset_toml(name: str, size: int, seed: int) -> str:
    """The preset's description file: name, description, suggested settings, licence and provenance."""
    doc = " ".join((STYLES[name].__doc__ or "").split())
    strength, density = SETTINGS[name]
    return (
        f'name = "{name}"\n'
        f'title = "{name.replace("-", " ").capitalize()}"\n'
        f'description = "{doc}"\n'
        f"strength = {strength}\n"
        f"density = {density}\n"
        'license = "MIT: drawn by Style Studio\'s own code (presets/draw.py); free to use and sell, models too"\n'
        f'source = "presets/draw.py --size {size} (seed {seed})"\n'
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--only", help="comma-separated style names")
    ap.add_argument("--out", default=str(Path(__file__).parent))
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(STYLES)
    for name in names:
        folder = Path(args.out) / name
        folder.mkdir(parents=True, exist_ok=True)
        draw(name, args.size).save(folder / "style.jpg", quality=92, subsampling=0, optimize=True)
        (folder / "preset.toml").write_text(preset_toml(name, args.size, 0), encoding="utf-8")
        print(folder / "style.jpg")


if __name__ == "__main__":
    main()

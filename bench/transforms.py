"""Seeded edits that copies of artwork go through on the web, for copy-detection benchmarks.

Each transform is ``(rgb, rng) -> rgb`` on HxWx3 uint8 arrays and draws every random choice
from ``rng``, so a benchmark that seeds ``rng`` per query gets the same queries on every run.
``FAMILIES`` maps a family name to its transform; ``families(backgrounds)`` returns the same
dict with ``paste`` using real photos as backgrounds (the module default draws synthetic ones,
so this file needs no data to run).

Everything is drawn with numpy, OpenCV and Pillow. AugLy's functional API is not used (under
Pillow >= 10 and NumPy 2 its ``meme_format`` and ``perspective_transform`` fail), but when the
``augly`` package is installed its bundled fonts and Twemoji images are used for text, memes
and emoji; without it, Pillow's built-in font and drawn smileys stand in.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from functools import cache, partial
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]

CAPTION_TEXT = (
    "lol when the new episode drops me irl mood so true best art ever look at this wait "
    "for it found this gem not mine credit to the artist repost if you agree monday again "
    "nobody asked sale today only fan art contest winner original post"
)
WORDS = tuple(CAPTION_TEXT.split())


# -- assets ------------------------------------------------------------------------------
@cache
def _augly_assets() -> Path | None:
    """AugLy's bundled assets folder, located without importing augly (slow, heavy)."""
    spec = importlib.util.find_spec("augly")
    if spec is None or not spec.submodule_search_locations:
        return None
    assets = Path(next(iter(spec.submodule_search_locations))) / "assets"
    return assets if assets.is_dir() else None


@cache
def _font(size: int, face: str = "OpenSans-Bold.ttf") -> ImageFont.ImageFont:
    assets = _augly_assets()
    if assets is not None and (assets / "fonts" / face).exists():
        return ImageFont.truetype(str(assets / "fonts" / face), size)
    return ImageFont.load_default(size)


@cache
def _emoji_paths() -> tuple[Path, ...]:
    assets = _augly_assets()
    if assets is None:
        return ()
    return tuple(sorted((assets / "twemojis").glob("smileys/*.png"))) or tuple(
        sorted((assets / "twemojis").glob("*/*.png"))
    )


def _drawn_smiley(size: int) -> Image.Image:
    """A yellow smiley with alpha, for when no emoji images are installed."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size - 1, size - 1), fill=(255, 204, 77, 255), outline=(0, 0, 0, 255))
    eye = max(2, size // 10)
    for cx in (size * 0.35, size * 0.65):
        draw.ellipse((cx - eye, size * 0.35 - eye, cx + eye, size * 0.35 + eye), fill="black")
    draw.arc((size * 0.25, size * 0.3, size * 0.75, size * 0.75), 20, 160, fill="black", width=eye)
    return image


def _emoji(size: int, rng: np.random.Generator) -> Image.Image:
    paths = _emoji_paths()
    if not paths:
        return _drawn_smiley(size)
    with Image.open(paths[int(rng.integers(len(paths)))]) as image:
        return image.convert("RGBA").resize((size, size), Image.Resampling.LANCZOS)


# -- helpers -----------------------------------------------------------------------------
def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))  # type: ignore[return-value]


def _words(rng: np.random.Generator, count: int) -> str:
    return " ".join(WORDS[int(i)] for i in rng.integers(0, len(WORDS), count))


def _resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    height, width = rgb.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(rgb, size, interpolation=interpolation)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1])


def _fit_text(text: str, width: int, size: int, face: str) -> ImageFont.ImageFont:
    """The largest font up to ``size`` at which ``text`` fits in ``width`` pixels."""
    while size > 8:
        font = _font(size, face)
        if ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(text, font=font) <= width:
            return font
        size = int(size * 0.85)
    return _font(8, face)


def synthetic_background(
    rng: np.random.Generator, size: tuple[int, int] = (800, 600)
) -> np.ndarray:
    """A smooth colour field with noise: a stand-in photo when no real backgrounds are given."""
    width, height = size
    corners = rng.integers(0, 256, (2, 2, 3)).astype(np.float32)
    field = cv2.resize(corners, (width, height), interpolation=cv2.INTER_LINEAR)
    noise = cv2.GaussianBlur(rng.normal(0, 40, (height, width, 3)).astype(np.float32), (0, 0), 3)
    return np.clip(field + noise, 0, 255).astype(np.uint8)


# -- the families ------------------------------------------------------------------------
def crop50(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Keep a random window of half the area (aspect varies between 0.55 and 1.8)."""
    height, width = rgb.shape[:2]
    fw = rng.uniform(0.55, 0.91)
    fh = 0.5 / fw
    cw, ch = round(width * fw), round(height * fh)
    x, y = int(rng.integers(0, width - cw + 1)), int(rng.integers(0, height - ch + 1))
    return np.ascontiguousarray(rgb[y : y + ch, x : x + cw])


def pad30(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Borders of 30% of the width (left, right) and height (top, bottom) in one solid colour."""
    height, width = rgb.shape[:2]
    dx, dy = round(0.3 * width), round(0.3 * height)
    return cv2.copyMakeBorder(rgb, dy, dy, dx, dx, cv2.BORDER_CONSTANT, value=_colour(rng))


def paste(
    rgb: np.ndarray, rng: np.random.Generator, backgrounds: Sequence[np.ndarray] = ()
) -> np.ndarray:
    """Paste the image, its longer side 30-60% of the background's, somewhere on a photo."""
    if backgrounds:
        background = backgrounds[int(rng.integers(len(backgrounds)))].copy()
    else:
        background = synthetic_background(rng)
    bh, bw = background.shape[:2]
    height, width = rgb.shape[:2]
    scale = rng.uniform(0.3, 0.6) * max(bh, bw) / max(height, width)
    scale = min(scale, bw / width, bh / height)
    small = _resize(rgb, scale)
    sh, sw = small.shape[:2]
    x, y = int(rng.integers(0, bw - sw + 1)), int(rng.integers(0, bh - sh + 1))
    background[y : y + sh, x : x + sw] = small
    return background


def rotate(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate by 10-30 degrees either way; the canvas grows to keep every pixel."""
    angle = float(rng.uniform(10, 30) * rng.choice([-1, 1]))
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(height * sin + width * cos), int(height * cos + width * sin)
    matrix[0, 2] += new_w / 2 - width / 2
    matrix[1, 2] += new_h / 2 - height / 2
    return cv2.warpAffine(
        rgb, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=_colour(rng)
    )


def hflip(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror left-right (the commonest trick against exact-match filters)."""
    return np.ascontiguousarray(rgb[:, ::-1])


def text_overlay(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One to three lines of outlined caption text, 8-16% of the height, over the picture."""
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    height, width = rgb.shape[:2]
    for _ in range(int(rng.integers(1, 4))):
        text = _words(rng, int(rng.integers(2, 5)))
        font = _fit_text(
            text, int(width * 0.95), int(height * rng.uniform(0.08, 0.16)), "Impact.ttf"
        )
        box = draw.textbbox((0, 0), text, font=font)
        x = int(rng.integers(0, max(1, width - (box[2] - box[0]))))
        y = int(rng.integers(0, max(1, height - (box[3] - box[1]))))
        stroke = max(1, font.size // 12) if hasattr(font, "size") else 1
        draw.text(
            (x, y), text, font=font, fill=_colour(rng), stroke_width=stroke, stroke_fill="black"
        )
    return np.asarray(image)


def emoji_overlay(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One to three emoji, each 15-30% of the shorter side, anywhere on the picture."""
    image = Image.fromarray(rgb).convert("RGBA")
    height, width = rgb.shape[:2]
    for _ in range(int(rng.integers(1, 4))):
        size = max(8, int(min(height, width) * rng.uniform(0.15, 0.30)))
        x, y = int(rng.integers(0, width - size + 1)), int(rng.integers(0, height - size + 1))
        image.alpha_composite(_emoji(size, rng), (x, y))
    return np.asarray(image.convert("RGB"))


def meme(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The caption-above meme format: a white bar (20-30% of the height) with black text."""
    height, width = rgb.shape[:2]
    bar = int(height * rng.uniform(0.2, 0.3))
    canvas = Image.new("RGB", (width, height + bar), "white")
    canvas.paste(Image.fromarray(rgb), (0, bar))
    draw = ImageDraw.Draw(canvas)
    lines = [_words(rng, int(rng.integers(3, 6))) for _ in range(int(rng.integers(1, 3)))]
    line_h = bar // (len(lines) + 1)
    for i, text in enumerate(lines):
        font = _fit_text(text, int(width * 0.92), int(line_h * 1.1), "Impact.ttf")
        length = draw.textlength(text, font=font)
        draw.text(((width - length) / 2, line_h * (i + 0.4)), text, font=font, fill="black")
    return np.asarray(canvas)


def screenshot(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The picture inside a browser-like window (title bar, address bar, sidebar, captions),
    then the whole screenshot scaled down a little and saved as a decent JPEG."""
    height, width = rgb.shape[:2]
    inner = _resize(rgb, rng.uniform(0.6, 0.95) * 720 / max(height, width))
    ih, iw = inner.shape[:2]
    dark = bool(rng.integers(2))
    page, ink = ((32, 33, 36), (230, 230, 230)) if dark else ((250, 250, 250), (40, 40, 40))
    sidebar, title_h, url_h = int(rng.integers(80, 200)), 34, 40
    margin = int(rng.integers(16, 48))
    canvas_w = sidebar + iw + 2 * margin + 14
    canvas_h = title_h + url_h + ih + 2 * margin + 90
    canvas = Image.new("RGB", (canvas_w, canvas_h), page)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, canvas_w, title_h), fill=(60, 60, 64) if dark else (222, 225, 230))
    for i, colour in enumerate(((255, 95, 87), (254, 188, 46), (40, 200, 64))):
        draw.ellipse((12 + i * 22, 10, 26 + i * 22, 24), fill=colour)
    draw.rounded_rectangle(
        (90, title_h + 6, canvas_w - 20, title_h + url_h - 6), radius=12, fill=(200, 200, 200)
    )
    draw.text(
        (104, title_h + 12),
        "https://example.social/post/" + str(rng.integers(10**9)),
        font=_font(15, "OpenSans-Regular.ttf"),
        fill=(60, 60, 60),
    )
    top = title_h + url_h
    draw.rectangle((0, top, sidebar, canvas_h), fill=(45, 46, 50) if dark else (238, 240, 243))
    for i in range(8):
        draw.rounded_rectangle(
            (14, top + 20 + i * 34, sidebar - 14, top + 40 + i * 34),
            radius=6,
            fill=(90, 90, 95) if dark else (205, 208, 214),
        )
    x0, y0 = sidebar + margin, top + margin
    canvas.paste(Image.fromarray(inner), (x0, y0))
    font = _font(16, "OpenSans-Regular.ttf")
    for i in range(2):
        draw.text((x0, y0 + ih + 12 + 24 * i), _words(rng, 7), font=font, fill=ink)
    draw.rectangle((canvas_w - 12, top, canvas_w, canvas_h), fill=(200, 200, 200))
    draw.rectangle((canvas_w - 10, top + 30, canvas_w - 2, top + 110), fill=(150, 150, 150))
    shot = _resize(np.asarray(canvas), rng.uniform(0.7, 1.0))
    return _jpeg(shot, int(rng.integers(70, 90)))


def jpeg_downscale(rgb: np.ndarray, rng: np.random.Generator, scale: float = 0.25) -> np.ndarray:
    """Each side scaled to ``scale`` (0.25: 1/16 of the pixels), then JPEG at quality 20."""
    return _jpeg(_resize(rgb, scale), 20)


def hue_shift(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate every hue by 30-150 degrees (saturation and brightness kept)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    shift = int(rng.integers(15, 76)) * int(rng.choice([-1, 1]))  # OpenCV hue unit = 2 degrees
    hsv[:, :, 0] = ((hsv[:, :, 0].astype(np.int16) + shift) % 180).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def grayscale(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


def perspective(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Move each corner by up to 15% of the size (a photo of a screen or print, roughly)."""
    height, width = rgb.shape[:2]
    src = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    jitter = rng.uniform(-0.15, 0.15, (4, 2)) * np.float32([width, height])
    dst = (src + jitter).astype(np.float32)
    dst -= dst.min(axis=0)
    out_w, out_h = (int(v) + 1 for v in dst.max(axis=0))
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(rgb, matrix, (out_w, out_h), borderValue=_colour(rng))


FAMILIES: dict[str, Transform] = {
    "crop50": crop50,
    "pad30": pad30,
    "paste": paste,
    "rotate": rotate,
    "hflip": hflip,
    "text": text_overlay,
    "emoji": emoji_overlay,
    "meme": meme,
    "screenshot": screenshot,
    "jpeg20_scale25": jpeg_downscale,
    "jpeg20_scale50": partial(jpeg_downscale, scale=0.5),
    "hue": hue_shift,
    "grayscale": grayscale,
    "perspective": perspective,
}


def families(backgrounds: Sequence[np.ndarray] = ()) -> dict[str, Transform]:
    """``FAMILIES`` with ``paste`` drawing its backgrounds from ``backgrounds`` (if any)."""
    if not backgrounds:
        return dict(FAMILIES)
    return {**FAMILIES, "paste": partial(paste, backgrounds=list(backgrounds))}


def random_crop(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A window of 20-70% of the area: unrelated material cut from photos (for false matches)."""
    height, width = rgb.shape[:2]
    area = rng.uniform(0.2, 0.7)
    fw = float(np.clip(rng.uniform(0.5, 1.5) * np.sqrt(area), area, 1.0))
    fh = min(1.0, area / fw)
    cw, ch = max(16, round(width * fw)), max(16, round(height * fh))
    x, y = int(rng.integers(0, width - cw + 1)), int(rng.integers(0, height - ch + 1))
    return np.ascontiguousarray(rgb[y : y + ch, x : x + cw])

"""Original demo characters, drawn by code: nothing here is anyone else's artwork.

The drawings are deterministic (same bytes on every run) so tests and benchmarks can rely on
them, and varied enough (shape, colour, features) to stand in for real character art.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 400


def _canvas(background: tuple[int, int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (SIZE, SIZE), background)
    return image, ImageDraw.Draw(image)


def _face(draw: ImageDraw.ImageDraw, cx: int, cy: int, scale: float = 1.0) -> None:
    eye = int(14 * scale)
    for dx in (-40, 40):
        x = cx + int(dx * scale)
        draw.ellipse((x - eye, cy - eye, x + eye, cy + eye), fill=(20, 20, 30))
        draw.ellipse((x - eye // 3, cy - eye // 2, x + eye // 4, cy), fill=(255, 255, 255))
    draw.arc(
        (cx - int(30 * scale), cy + int(10 * scale), cx + int(30 * scale), cy + int(50 * scale)),
        20,
        160,
        fill=(120, 20, 20),
        width=max(2, int(5 * scale)),
    )


def hoshimaru() -> Image.Image:
    """A yellow five-pointed star mascot with pink cheeks."""
    image, draw = _canvas((40, 60, 140))
    points = []
    for i in range(10):
        radius = 170 if i % 2 == 0 else 75
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((200 + radius * math.cos(angle), 215 + radius * math.sin(angle)))
    draw.polygon(points, fill=(255, 214, 40), outline=(180, 120, 0), width=6)
    _face(draw, 200, 205, 0.8)
    for x in (140, 260):
        draw.ellipse((x - 16, 240, x + 16, 262), fill=(255, 120, 150))
    for i in range(25):
        x, y = (i * 97) % SIZE, (i * 53) % 90
        draw.ellipse((x, y, x + 4, y + 4), fill=(255, 255, 220))
    return image


def kumo_chan() -> Image.Image:
    """A white cloud creature with blue boots, over a green hill."""
    image, draw = _canvas((150, 210, 250))
    draw.ellipse((-100, 300, 500, 600), fill=(90, 170, 80))
    for box in (
        (70, 120, 230, 270),
        (170, 90, 330, 250),
        (110, 170, 300, 310),
        (60, 180, 190, 300),
    ):
        draw.ellipse(box, fill=(250, 250, 255), outline=(200, 200, 220), width=3)
    _face(draw, 195, 200, 0.9)
    for x in (140, 230):
        draw.rounded_rectangle((x, 300, x + 45, 340), radius=10, fill=(40, 90, 200))
    return image


def captain_comet() -> Image.Image:
    """A round hero in a red cape with a comet emblem, on a night sky."""
    image, draw = _canvas((15, 15, 45))
    draw.polygon([(120, 170), (280, 170), (330, 390), (70, 390)], fill=(200, 30, 40))
    draw.ellipse((110, 60, 290, 240), fill=(240, 200, 170), outline=(120, 80, 60), width=4)
    draw.rectangle((110, 110, 290, 140), fill=(30, 40, 160))
    _face(draw, 200, 150, 0.7)
    draw.rounded_rectangle((140, 230, 260, 370), radius=30, fill=(30, 40, 160))
    draw.ellipse((180, 270, 220, 310), fill=(255, 230, 60))
    draw.line((215, 275, 255, 240), fill=(255, 230, 60), width=8)
    return image


def lantern_town() -> Image.Image:
    """The setting of a work registered as a whole: red lanterns over a street at dusk."""
    image, draw = _canvas((60, 30, 80))
    for i in range(6):
        x = 20 + i * 65
        draw.rectangle((x, 220 - (i % 3) * 30, x + 55, 400), fill=(40 + i * 10, 30, 50))
    draw.line((0, 120, 400, 150), fill=(20, 10, 10), width=3)
    for i in range(6):
        x, y = 30 + i * 65, 125 + i * 5
        draw.ellipse((x, y, x + 40, y + 55), fill=(230, 60, 40), outline=(250, 200, 80), width=3)
    return image


ARTWORK: dict[str, Callable[[], Image.Image]] = {
    "hoshimaru.png": hoshimaru,
    "kumo_chan.png": kumo_chan,
    "captain_comet.png": captain_comet,
    "lantern_town.png": lantern_town,
}


def write_artwork(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for filename, draw in ARTWORK.items():
        path = folder / filename
        draw().save(path, format="PNG", optimize=False)
        paths.append(path)
    return paths

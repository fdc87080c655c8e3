"""A toy text-to-image generator that runs anywhere (no model weights): for the Guard example,
the tests and the provenance benchmark.

It paints a scene seeded by the prompt (sky, hills, sun, shapes), so every prompt gets its own
picture. Like real models it has "memorised" some characters: a prompt that describes one of
the demo characters without naming it makes it paint that character into the scene, which
only the Guard's output screening can catch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from kenri.demo.artwork import captain_comet, hoshimaru, kumo_chan

MEMORISED: dict[str, Callable[[], Image.Image]] = {
    "star mascot": hoshimaru,
    "cloud creature": kumo_chan,
    "caped hero": captain_comet,
}


def toy_image(prompt: str, size: tuple[int, int] = (512, 384)) -> np.ndarray:
    """An RGB picture of ``size`` (width, height), the same for the same prompt."""
    seed = int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    w, h = size
    top, bottom = rng.integers(40, 230, 3), rng.integers(40, 230, 3)
    ramp = np.linspace(0, 1, h)[:, None, None]
    sky = (top * (1 - ramp) + bottom * ramp).astype(np.uint8).repeat(w, axis=1)
    image = Image.fromarray(sky)
    draw = ImageDraw.Draw(image)
    sun = rng.integers(0, w), rng.integers(0, h // 2), rng.integers(20, 60)
    draw.ellipse((sun[0] - sun[2], sun[1] - sun[2], sun[0] + sun[2], sun[1] + sun[2]),
                 fill=tuple(int(v) for v in rng.integers(180, 255, 3)))  # fmt: skip
    for _ in range(3):
        base = int(rng.integers(h // 2, h))
        points = [(0, h)] + [(x, base - int(rng.integers(0, h // 4))) for x in range(0, w + 64, 64)]
        draw.polygon(points + [(w, h)], fill=tuple(int(v) for v in rng.integers(20, 160, 3)))
    for _ in range(int(rng.integers(8, 20))):
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(4, 30))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        draw.rectangle((x, y, x + r, y + r // 2), outline=colour, width=2)
    for phrase, character in MEMORISED.items():
        if phrase in prompt.lower():
            art = character().resize((min(w, h) * 3 // 4,) * 2)
            image.paste(art, ((w - art.width) // 2, (h - art.height) // 2))
    return np.asarray(image)


def toy_video(prompt: str, seconds: float = 2.0, fps: int = 12) -> tuple[list[np.ndarray], float]:
    """A slow pan over the prompt's picture: frames and frame rate."""
    wide = toy_image(prompt, (640, 288))
    frames = [wide[:, i * 4 : i * 4 + 512].copy() for i in range(int(seconds * fps))]
    return frames, float(fps)

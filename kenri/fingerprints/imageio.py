"""Decode images into the one pixel format every signal reads: RGB uint8, alpha over white.

All decoding of outside images goes through here, so the limits (pixel count, file size) and
the error messages are the same everywhere.
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from kenri.errors import MediaError

ORIENTATION = 0x0112  # EXIF tag
MAX_PIXELS = 64_000_000
MAX_BYTES = 256 * 1024**2

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow raises DecompressionBombError past twice this


def to_rgb(image: Image.Image) -> np.ndarray:
    """RGB array; transparency is composited over white (how artwork is shown on a page).

    Written to hold as few full-size copies as it can (at the pixel limit one RGB copy is
    192 MB): the orientation is fixed in place, an RGB image is not converted again, and
    transparency is pasted onto an RGB canvas rather than composited in RGBA.
    """
    if image.getexif().get(ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
        del rgba
    elif image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image)


def load_image(source: str | os.PathLike[str] | bytes) -> np.ndarray:
    """Decode a file (or bytes) fully; ``MediaError`` with the reason when it cannot be read."""
    name = "<bytes>" if isinstance(source, bytes) else Path(source).name
    try:
        if isinstance(source, bytes):
            if len(source) > MAX_BYTES:
                raise MediaError(f"{name}: larger than {MAX_BYTES} bytes")
            handle = Image.open(io.BytesIO(source))
        else:
            path = Path(source)
            if not path.is_file():
                raise MediaError(f"{path}: file not found")
            if path.stat().st_size > MAX_BYTES:
                raise MediaError(f"{name}: larger than {MAX_BYTES} bytes")
            handle = Image.open(path)
        with handle as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise MediaError(f"{name}: {width}x{height} pixels exceeds {MAX_PIXELS}")
            if getattr(image, "n_frames", 1) > 1:
                image.seek(0)  # animated GIF/WebP: the first frame stands for the file
            return to_rgb(image)
    except MediaError:
        raise
    except UnidentifiedImageError:
        raise MediaError(f"{name}: not an image file") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, EOFError) as exc:
        raise MediaError(f"{name}: not a readable image ({exc})") from None
    except (IndexError, TypeError, struct.error) as exc:
        # How Pillow's format readers fail on malformed fields past open (a truncated GIF
        # frame, a TIFF strip offset of the wrong type; found by fuzzing): the same classes
        # Image.open itself turns into "cannot identify image file".
        raise MediaError(f"{name}: not a readable image (malformed: {exc!r})") from None


def fit(rgb: np.ndarray, max_side: int, min_side: int = 0) -> np.ndarray:
    """Resize so the longer side is at most ``max_side`` and at least ``min_side``."""
    import cv2

    height, width = rgb.shape[:2]
    longest = max(height, width)
    scale = 1.0
    if longest > max_side:
        scale = max_side / longest
    elif min_side and longest < min_side:
        scale = min_side / longest
    if scale == 1.0:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, size, interpolation=interpolation)

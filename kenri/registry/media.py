"""Reference media: check that a file really is an image or a video, and store it by content.

Files are stored as ``media/<sha[:2]>/<sha>.<ext>`` under the data folder, written to a temporary
name and renamed, so a crash never leaves a half-written file under a valid name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from kenri.errors import MediaError
from kenri.fingerprints.video import check_stream

# Decompression-bomb guard: references are artwork, not gigapixel scans.
MAX_IMAGE_PIXELS = 64_000_000
MAX_MEDIA_BYTES = 2 * 1024**3

IMAGE_MIME = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
VIDEO_EXTS = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".ogv", ".mpg", ".mpeg", ".ts"}


@dataclass(frozen=True)
class MediaInfo:
    sha256: str
    kind: str  # "image" | "video"
    mime: str
    size_bytes: int
    ext: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _probe_image(path: Path) -> tuple[str, str, int, int] | None:
    """Returns (mime, ext, width, height), None when Pillow does not recognise the file."""
    try:
        with Image.open(path) as img:
            fmt = img.format or ""
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise MediaError(
                    f"{path.name}: image of {width}x{height} pixels exceeds the limit of "
                    f"{MAX_IMAGE_PIXELS} pixels"
                )
            img.load()  # decode fully: truncated files fail here, not later
    except UnidentifiedImageError:
        return None
    except MediaError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise MediaError(f"{path.name}: not a readable image ({exc})") from exc
    mime = IMAGE_MIME.get(fmt, f"image/{fmt.lower() or 'unknown'}")
    ext = {"JPEG": ".jpg", "TIFF": ".tif"}.get(fmt, f".{fmt.lower()}")
    return mime, ext, width, height


def _probe_video(path: Path) -> tuple[str, int, int, float | None]:
    """Returns (mime, width, height, duration); raises MediaError when no frame decodes."""
    import av  # imported lazily: PyAV loads FFmpeg, which only video needs

    try:
        with av.open(str(path)) as container:
            streams = container.streams.video
            if not streams:
                raise MediaError(f"{path.name}: no video stream")
            stream = streams[0]
            check_stream(container, stream, path.name)
            frame = next(container.decode(stream), None)
            if frame is None:
                raise MediaError(f"{path.name}: no decodable video frame")
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000
            fmt = container.format.name.split(",")[0]
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError, StopIteration) as exc:
        raise MediaError(f"{path.name}: not a readable video ({exc})") from exc
    mime = {"mov": "video/mp4", "mp4": "video/mp4", "matroska": "video/x-matroska"}.get(
        fmt, f"video/{fmt}"
    )
    if path.suffix.lower() == ".webm":
        mime = "video/webm"
    return mime, frame.width, frame.height, duration


def probe_media(path: str | os.PathLike[str]) -> MediaInfo:
    """Identify and fully validate an image or video file; raise ``MediaError`` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    size = path.stat().st_size
    if size == 0:
        raise MediaError(f"{path.name}: empty file")
    if size > MAX_MEDIA_BYTES:
        raise MediaError(f"{path.name}: {size} bytes exceeds the limit of {MAX_MEDIA_BYTES}")
    image = _probe_image(path)
    if image is not None:
        mime, ext, width, height = image
        return MediaInfo(sha256_file(path), "image", mime, size, ext, width, height)
    if path.suffix.lower() not in VIDEO_EXTS and not _looks_like_video(path):
        raise MediaError(f"{path.name}: not an image or video file")
    mime, width, height, duration = _probe_video(path)
    ext = path.suffix.lower() if path.suffix.lower() in VIDEO_EXTS else ".mp4"
    return MediaInfo(sha256_file(path), "video", mime, size, ext, width, height, duration)


def _looks_like_video(path: Path) -> bool:
    """Cheap magic-number check so text files are not handed to FFmpeg's many demuxers."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    return (
        head[4:8] == b"ftyp"
        or head.startswith(b"\x1a\x45\xdf\xa3")  # Matroska / WebM
        or head.startswith(b"RIFF")
        and head[8:12] == b"AVI "
        or head.startswith(b"OggS")
        or head.startswith(b"\x00\x00\x01\xba")  # MPEG-PS
    )


class MediaStore:
    """Content-addressed file store under the data folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{ext}"

    def put_bytes(self, data: bytes, name: str = "upload") -> MediaInfo:
        """Validate media given as bytes (an upload, a claimed file) and store it."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / (Path(name).name or "upload")
            path.write_bytes(data)
            info = probe_media(path)
            self.put(path, info)
        return info

    def put(self, source: Path, info: MediaInfo) -> Path:
        """Copy ``source`` in (atomically); a file already stored is not copied again."""
        target = self.path_for(info.sha256, info.ext)
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

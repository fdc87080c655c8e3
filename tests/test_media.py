"""Reference media: real decoding decides what is an image or a video; storage is by content."""

from __future__ import annotations

import pytest
from PIL import Image

from kenri.errors import MediaError
from kenri.registry import media
from kenri.registry.media import MediaStore, probe_media, sha256_file
from tests.media_factory import make_video


def test_png_and_jpeg(art, tmp_path):
    info = probe_media(art["hoshimaru"])
    assert (info.kind, info.mime, info.width, info.height, info.ext) == (
        "image",
        "image/png",
        400,
        400,
        ".png",
    )
    assert info.sha256 == sha256_file(art["hoshimaru"])
    jpg = tmp_path / "x.jpeg"
    Image.open(art["kumo_chan"]).save(jpg, quality=80)
    assert probe_media(jpg).mime == "image/jpeg"


def test_video_mp4_and_webm(tmp_path):
    mp4 = probe_media(make_video(tmp_path / "clip.mp4"))
    assert mp4.kind == "video" and mp4.width == 160 and mp4.height == 120
    assert mp4.duration_s == pytest.approx(2.0, abs=0.2)
    webm = probe_media(make_video(tmp_path / "clip.webm"))
    assert webm.kind == "video" and webm.mime == "video/webm"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.png", b"", "empty file"),
        ("text.png", b"hello, not an image at all" * 10, "not an image or video"),
        ("fake.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200, "not a readable video"),
    ],
)
def test_bad_files_are_refused_clearly(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MediaError, match=message):
        probe_media(path)


def test_truncated_image_and_video(art, tmp_path):
    png = tmp_path / "cut.png"
    png.write_bytes(art["captain_comet"].read_bytes()[:3000])
    with pytest.raises(MediaError, match="not a readable image"):
        probe_media(png)
    video = make_video(tmp_path / "full.mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[:400])
    with pytest.raises(MediaError):
        probe_media(cut)


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="not found"):
        probe_media(tmp_path / "nope.png")


def test_pixel_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(media, "MAX_IMAGE_PIXELS", 100 * 100)
    path = tmp_path / "big.png"
    Image.new("RGB", (200, 200)).save(path)
    with pytest.raises(MediaError, match="exceeds the limit"):
        probe_media(path)


def test_store_is_content_addressed_and_idempotent(art, tmp_path):
    store = MediaStore(tmp_path / "media")
    info = probe_media(art["hoshimaru"])
    first = store.put(art["hoshimaru"], info)
    again = store.put(art["hoshimaru"], info)
    assert first == again == tmp_path / "media" / info.sha256[:2] / f"{info.sha256}.png"
    assert sha256_file(first) == info.sha256
    assert not list((tmp_path / "media").rglob(".incoming-*"))


@pytest.mark.parametrize(
    ("rate", "frames", "pts_step", "message"),
    [(1000, 50, 1, "1000 frames per second exceeds 480"),  # absurd frame rate
     (1, 3, 3 * 3600, "longer than 14400 s")],  # absurd length: 6 hours in three frames
)  # fmt: skip
def test_videos_of_absurd_rate_or_length_are_refused(tmp_path, rate, frames, pts_step, message):
    from kenri.fingerprints.video import sample_frames

    clip = make_video(tmp_path / "clip.mp4", frames, (64, 48), rate, pts_step)
    for read in (probe_media, lambda p: list(sample_frames(p))):  # ingestion and screening
        with pytest.raises(MediaError, match=message):
            read(clip)


def test_video_frames_past_the_pixel_limit_are_refused_before_decoding(tmp_path, monkeypatch):
    from kenri.fingerprints import video

    clip = make_video(tmp_path / "clip.mp4", frames=4, size=(160, 120))
    assert len(list(video.sample_frames(clip))) >= 1
    monkeypatch.setattr(video, "MAX_PIXELS", 160 * 120 - 1)
    with pytest.raises(MediaError, match="160x120 frames exceed 19199 pixels"):
        list(video.sample_frames(clip))
    monkeypatch.setattr(video, "MAX_DECODED_FRAMES", 2)  # a stream lying about its length
    monkeypatch.setattr(video, "MAX_PIXELS", 10**9)
    with pytest.raises(MediaError, match="more than 2 frames"):
        list(video.sample_frames(clip))

"""Training-data screening: decisions with reasons, filtered shards, reports, bad items, and a
run that is stopped and resumed ending exactly like one that was not."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

import kenri
from kenri.catalog import import_catalog
from kenri.cli.main import app as cli_app
from kenri.demo.run import write_catalog
from kenri.screening.dataset import run as dataset_run
from kenri.screening.dataset.optout import c2pa_reasons, metadata_reasons
from kenri.screening.dataset.run import screen_dataset
from tests.test_screen_media import unrelated_picture


@pytest.fixture
def registry(app: kenri.Kenri, tmp_path: Path) -> kenri.Kenri:
    assert not import_catalog(app, write_catalog(tmp_path / "catalog")).errors
    return app


def _jpeg(rgb) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def write_shard(path: Path, items: list[tuple[str, dict[str, bytes]]]) -> Path:
    with tarfile.open(path, "w") as archive:
        for key, members in items:
            for ext, data in members.items():
                _add(archive, f"{key}.{ext}" if not key.startswith("/") else key, data)
    return path


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "dataset"
    folder.mkdir()
    comet = Image.open(tmp_path / "catalog" / "art" / "captain_comet.png").convert("RGB")
    copy = _jpeg(__import__("numpy").asarray(comet.resize((300, 300))))
    write_shard(
        folder / "00000.tar",
        [
            ("000000000", {"jpg": copy, "txt": b"a poster on a wall"}),
            ("000000001", {"jpg": _jpeg(unrelated_picture(1)), "txt": b"a red barn in snow"}),
            ("000000002", {"jpg": _jpeg(unrelated_picture(2)), "txt": b"Hoshimaru plush toy"}),
            (
                "000000003",
                {
                    "jpg": _jpeg(unrelated_picture(3)),
                    "txt": b"a lake at dawn",
                    "json": json.dumps({"headers": {"X-Robots-Tag": "noai, noimageai"}}).encode(),
                },
            ),
            ("000000004", {"jpg": b"\xff\xd8\xff\xe0 not really a jpeg", "txt": b"broken"}),
            ("000000005", {"jpg": _jpeg(unrelated_picture(5))}),  # no caption
        ],
    )
    with tarfile.open(folder / "00001.tar", "w") as archive:
        _add(archive, "../escape.jpg", _jpeg(unrelated_picture(6)))
        _add(archive, "000000007.jpg", _jpeg(unrelated_picture(7)))
        _add(archive, "000000007.txt", b"a green field")
    truncated = write_shard(
        tmp_path / "whole.tar",
        [
            (f"00000001{i}", {"jpg": _jpeg(unrelated_picture(10 + i)), "txt": b"a cloud"})
            for i in range(3)
        ],
    )
    data = truncated.read_bytes()
    (folder / "00002.tar").write_bytes(data[: len(data) // 2])
    return folder


def _rows(out: Path) -> list[dict]:
    return pq.read_table(out / "decisions.parquet").to_pylist()


def test_every_item_gets_a_decision_with_reasons(registry, dataset, tmp_path):
    out = tmp_path / "out"
    summary = screen_dataset(registry, dataset, out)
    rows = {(r["shard"], r["key"]): r for r in _rows(out)}
    copy = rows[("00000", "000000000")]
    assert copy["decision"] == "exclude" and copy["work"] == "Captain Comet"
    assert any(r.startswith("media block") for r in copy["reasons"])
    assert json.loads(copy["evidence"])[0]["signal"] == "media"
    assert rows[("00000", "000000001")]["decision"] == "keep"
    named = rows[("00000", "000000002")]
    assert named["decision"] == "exclude" and named["character"] == "Hoshimaru"
    assert "opt-out: X-Robots-Tag noai" in rows[("00000", "000000003")]["reasons"]
    assert rows[("00000", "000000003")]["decision"] == "exclude"
    assert rows[("00000", "000000004")]["decision"] == "error"
    assert rows[("00000", "000000005")]["reasons"] == ["no caption"]
    assert rows[("00001", "../escape")]["error"].startswith("unsafe member path")
    assert rows[("00001", "000000007")]["decision"] == "keep"
    truncated = [r for r in rows.values() if r["shard"] == "00002"]
    assert any("truncated" in (r["error"] or "") for r in truncated)
    assert summary.items == len(rows)
    with tarfile.open(out / "shards" / "00000.tar") as archive:
        names = archive.getnames()
    assert names == ["000000001.jpg", "000000001.txt", "000000005.jpg"]
    report = json.loads((out / "report.json").read_text())
    assert report["holders"]["Nova Comics"]["excluded"] >= 1
    assert report["opt_outs"] == 1
    page = (out / "report.html").read_text()
    assert "Nova Comics" in page
    listed = report["holders"]["Nova Comics"]["items"]  # the holder sees which items, not a count
    excluded = [i for i in listed if i["decision"] == "exclude"]
    assert excluded and all(f"<td>{i['key']}</td>" in page for i in excluded)


def test_a_grant_for_training_keeps_the_licensed_work(registry, dataset, tmp_path):
    with registry.transaction() as tx:
        licensee = tx.registry.add_licensee("Acme AI", "US")
        tx.ledger.grant(licensee, tx.registry.work("Captain Comet"), ["training"])
    screen_dataset(registry, dataset, tmp_path / "out", licensee="Acme AI")
    copy = next(r for r in _rows(tmp_path / "out") if r["key"] == "000000000")
    assert copy["decision"] == "keep" and json.loads(copy["grant"])


def _outputs(out: Path) -> dict[str, bytes]:
    found = {p.name: p.read_bytes() for p in sorted((out / "shards").glob("*.tar"))}
    found["decisions"] = json.dumps(_rows(out), sort_keys=True).encode()
    found["report"] = (out / "report.json").read_bytes()
    return found


def test_a_run_stopped_after_one_shard_resumes_to_the_same_outputs(
    registry, dataset, tmp_path, monkeypatch
):
    screen_dataset(registry, dataset, tmp_path / "whole")
    real = dataset_run.screen_shard
    calls = []

    def crash_after_first(app, shard, out, options):
        if calls:
            raise KeyboardInterrupt("stopped")
        calls.append(shard.name)
        return real(app, shard, out, options)

    monkeypatch.setattr(dataset_run, "screen_shard", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        screen_dataset(registry, dataset, tmp_path / "resumed")
    monkeypatch.setattr(dataset_run, "screen_shard", real)
    summary = screen_dataset(registry, dataset, tmp_path / "resumed")
    assert summary.shards_resumed == 1
    assert _outputs(tmp_path / "resumed") == _outputs(tmp_path / "whole")


def test_kill_9_then_resume_gives_the_same_outputs(registry, dataset, tmp_path):
    for copy in range(3, 8):  # more shards, so the kill lands mid-run
        (dataset / f"0000{copy}.tar").write_bytes((dataset / "00001.tar").read_bytes())
    screen_dataset(registry, dataset, tmp_path / "whole")
    out = tmp_path / "killed"
    home, db = str(registry.settings.home), registry.settings.db_url
    command = [sys.executable, "-m", "kenri", "--home", home, "--db", db, "screen", "dataset"]
    process = subprocess.Popen(
        [*command, str(dataset), "--out", str(out)], stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(list((out / "parts").glob("*.json"))) >= 2:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait()
    summary = screen_dataset(registry, dataset, out)
    assert _outputs(out) == _outputs(tmp_path / "whole")
    assert summary.shards == 8


def test_workers_decide_as_one_process_does(registry, dataset, tmp_path):
    screen_dataset(registry, dataset, tmp_path / "one")
    screen_dataset(registry, dataset, tmp_path / "two", workers=2)
    assert _outputs(tmp_path / "two") == _outputs(tmp_path / "one")


def test_cli_screens_a_folder_of_files(registry, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    Image.fromarray(unrelated_picture(4)).save(folder / "a.png")
    (folder / "a.txt").write_text("a quiet harbour")
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    home, db = str(registry.settings.home), registry.settings.db_url
    result = CliRunner().invoke(
        cli_app,
        ["--home", home, "--db", db, "screen", "dataset", str(folder), "--out",
         str(tmp_path / "out"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["items"] == 2 and summary["decisions"] == {"keep": 1, "error": 1}


def test_unknown_licensee_fails_before_any_work(registry, dataset, tmp_path):
    with pytest.raises(kenri.errors.KenriError):
        screen_dataset(registry, dataset, tmp_path / "out", licensee="Nobody")
    assert not (tmp_path / "out").exists()


def test_opt_out_signals():
    assert metadata_reasons({"headers": {"x-robots-tag": "NoAI"}}) == ["opt-out: X-Robots-Tag noai"]
    assert metadata_reasons({"tdmrep": {"tdm-reservation": 1}}) == [
        "opt-out: TDMRep tdm-reservation"
    ]
    assert metadata_reasons({"x_robots_tag": "noindex"}) == []
    blob = b"..jumb..c2pa.training-mining..c2pa.ai_training..use..notAllowed.."
    assert c2pa_reasons(blob) == ["opt-out: C2PA c2pa.training-mining notAllowed"]
    assert c2pa_reasons(b"c2pa.training-mining use allowed") == []


def test_ray_engine_decides_as_the_local_engine(registry, dataset, tmp_path, db_url):
    pytest.importorskip("ray")
    if not db_url.startswith("sqlite"):
        pytest.skip("one Ray start is enough; the engine does not depend on the database")
    screen_dataset(registry, dataset, tmp_path / "local")
    screen_dataset(registry, dataset, tmp_path / "ray", engine="ray", workers=2)
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG header announcing a huge image (the pixels are never there)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_video_members_and_a_50k_by_50k_image(registry, tmp_path):
    from tests.media_factory import make_video

    folder = tmp_path / "mixed"
    folder.mkdir()
    clip = make_video(tmp_path / "clip.mp4").read_bytes()
    write_shard(
        folder / "00000.tar",
        [
            ("clip", {"mp4": clip, "txt": b"a moving gradient"}),
            ("huge", {"png": _png_claiming(50_000, 50_000), "txt": b"a wall"}),
            ("fine", {"jpg": _jpeg(unrelated_picture(8)), "txt": b"a bridge"}),
        ],
    )
    screen_dataset(registry, folder, tmp_path / "out")
    rows = {r["key"]: r for r in _rows(tmp_path / "out")}
    assert rows["clip"]["decision"] == "keep", rows["clip"]
    assert rows["huge"]["decision"] == "error" and "pixels" in rows["huge"]["error"]
    assert rows["fine"]["decision"] == "keep"


def test_a_hostile_caption_or_a_link_member_fails_only_its_item(registry, tmp_path):
    folder = tmp_path / "hostile"
    folder.mkdir()
    with tarfile.open(folder / "00000.tar", "w") as archive:
        _add(archive, "long.jpg", _jpeg(unrelated_picture(9)))
        _add(archive, "long.txt", ("Hoshimaru " * 5000).encode())  # past the prompt limit
        link = tarfile.TarInfo("link.jpg")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
        _add(archive, "after.jpg", _jpeg(unrelated_picture(10)))
        _add(archive, "after.txt", b"a quiet street")
    screen_dataset(registry, folder, tmp_path / "out")
    rows = {r["key"]: r for r in _rows(tmp_path / "out")}
    assert rows["long"]["decision"] == "error" and "longer than" in rows["long"]["error"]
    assert rows["link"]["decision"] == "error" and "not a regular file" in rows["link"]["error"]
    assert rows["after"]["decision"] == "keep"

"""Media screening: copies are found under edits, decisions follow the ledger, bad files don't stop
a batch, and the index follows the registry (add, remove, rebuild)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import kenri
from kenri.cli.main import app as cli_app
from kenri.demo.run import write_catalog
from kenri.fingerprints.imageio import load_image
from tests.media_factory import make_video, unrelated_picture, video_with_stretch, write_frames


@pytest.fixture
def registry(app: kenri.Kenri, tmp_path: Path) -> kenri.Kenri:
    from kenri.catalog import import_catalog

    catalog = write_catalog(tmp_path / "catalog")
    assert not import_catalog(app, catalog).errors
    with app.transaction() as tx:
        tx.registry.add_licensee("Acme AI", "US")
    return app


def edits(rgb: np.ndarray) -> dict[str, np.ndarray]:
    h, w = rgb.shape[:2]
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), 20, 1.0)
    scene = unrelated_picture(3).copy()
    small = cv2.resize(rgb, (220, 220))
    scene[120:340, 300:520] = small
    return {
        "crop": rgb[int(h * 0.15) : int(h * 0.85), int(w * 0.15) : int(w * 0.85)],
        "flip": rgb[:, ::-1],
        "rotate": cv2.warpAffine(rgb, rotation, (w, h), borderValue=(255, 255, 255)),
        "pasted": scene,
        "grayscale": np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2),
    }


def test_edited_copies_block_and_unrelated_pictures_pass(registry, tmp_path):
    art = tmp_path / "catalog" / "art"
    for name, character in [("hoshimaru", "Hoshimaru"), ("captain_comet", "Captain Comet")]:
        for edit, query in edits(load_image(art / f"{name}.png")).items():
            result = registry.screen_image(np.ascontiguousarray(query))
            assert result.decision == "block", (name, edit, result.to_dict())
            best = result.matches[0]
            assert best.character == character, (name, edit)
            assert best.evidence["signal"] in ("orb", "pdq")
            assert best.score >= 0.9
    for seed in range(5):
        result = registry.screen_image(unrelated_picture(seed))
        assert result.decision == "allow" and result.matches == []


def test_evidence_names_work_reference_and_region(registry, tmp_path):
    rgb = load_image(tmp_path / "catalog" / "art" / "kumo_chan.png")
    scene = unrelated_picture(11).copy()
    scene[100:300, 50:250] = cv2.resize(rgb, (200, 200))
    result = registry.screen_image(scene).to_dict()
    match = result["matches"][0]
    assert (match["holder"], match["work"], match["character"]) == (
        "Studio Kumo",
        "Hoshimaru Adventures",
        "Kumo-chan",
    )
    assert match["reference"] == "kumo_chan.png"
    region = np.array(match["evidence"]["region"])
    assert region.shape == (4, 2)
    # The reference's outline lands where it was pasted (within a few pixels).
    assert np.allclose(region.min(axis=0), [50, 100], atol=12)
    assert np.allclose(region.max(axis=0), [250, 300], atol=12)
    assert match["evidence"]["inliers"] >= 15


def test_grant_allows_and_names_it_revocation_blocks(registry, tmp_path):
    query = load_image(tmp_path / "catalog" / "art" / "hoshimaru.png")[40:360, 40:360]
    assert registry.screen_image(query, licensee="Acme AI").decision == "block"
    with registry.transaction() as tx:
        grant = tx.ledger.grant(
            tx.registry.licensee("Acme AI"),
            tx.registry.work("Hoshimaru Adventures"),
            ["generation"],
        )
    allowed = registry.screen_image(query, licensee="Acme AI")
    assert allowed.decision == "allow"
    assert allowed.matches[0].grant["id"] == grant.id
    # The grant is for generation: training is still blocked, and another licensee too.
    assert registry.screen_image(query, licensee="Acme AI", purpose="training").decision == "block"
    assert registry.screen_image(query).decision == "block"
    with registry.transaction() as tx:
        tx.ledger.revoke(tx.ledger.get(grant.id), "ended")
    assert registry.screen_image(query, licensee="Acme AI").decision == "block"


def test_review_band_and_top_k(registry, tmp_path):
    from kenri.screening.decision import Thresholds

    query = load_image(tmp_path / "catalog" / "art" / "captain_comet.png")
    strict = registry.screen_image(query, thresholds=Thresholds(review=0.5, block=1.01 - 0.01))
    assert strict.decision in ("block", "review")
    lenient = registry.screen_image(unrelated_picture(1), top=3)
    assert lenient.decision == "allow"
    assert len(lenient.matches) <= 3
    scores = [m.score for m in lenient.matches]
    assert scores == sorted(scores, reverse=True)
    with pytest.raises(kenri.KenriError):
        Thresholds(review=0.9, block=0.5)


def test_bad_inputs_are_reported_and_the_batch_goes_on(registry, tmp_path):
    art = tmp_path / "catalog" / "art"
    truncated = tmp_path / "cut.png"
    truncated.write_bytes((art / "hoshimaru.png").read_bytes()[:1500])
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    inputs = [
        truncated,
        art / "hoshimaru.png",
        text,
        tmp_path / "missing.png",
        art / "lantern_town.png",
    ]
    results = [r.to_dict() for r in registry.screen_images(inputs)]
    assert [r["input"] for r in results] == [str(p) for p in inputs]
    assert ["error" in r for r in results] == [True, False, True, True, False]
    assert results[1]["decision"] == "block" and results[4]["decision"] == "block"
    assert results[4]["matches"][0]["character"] is None  # a work registered as a whole
    assert "not a readable image" in results[0]["error"]
    assert "not an image" in results[2]["error"]
    bad = registry.screen_image(np.zeros((10, 10), dtype=np.uint8))
    assert bad.error and "HxWx3" in bad.error


def test_removed_reference_stops_matching_at_once_and_rebuild(registry, tmp_path):
    query = load_image(tmp_path / "catalog" / "art" / "captain_comet.png")
    assert registry.screen_image(query).decision == "block"
    with registry.transaction() as tx:
        ref = tx.registry.references(character=tx.registry.character("Captain Comet"))[0]
        tx.registry.remove_reference(ref)
    assert registry.screen_image(query).decision == "allow"  # no explicit sync needed
    # A new process loads the persisted snapshot and agrees.
    with kenri.open(registry.settings.home, registry.settings.db_url) as other:
        assert other.screen_image(query).decision == "allow"
        assert (
            other.screen_image(load_image(tmp_path / "catalog" / "art" / "hoshimaru.png")).decision
            == "block"
        )
    # Throwing the index away and rebuilding from the registry gives the same answers.
    assert registry.rebuild_index() == 3
    assert registry.screen_image(query).decision == "allow"
    with registry.transaction() as tx:
        tx.registry.add_reference(
            tmp_path / "catalog" / "art" / "captain_comet.png",
            tx.registry.work("Captain Comet"),
            tx.registry.character("Captain Comet"),
        )
    assert registry.screen_image(query).decision == "block"


def test_corrupt_index_snapshot_is_rebuilt(registry, tmp_path):
    query = load_image(tmp_path / "catalog" / "art" / "kumo_chan.png")
    assert registry.screen_image(query).decision == "block"
    index_dir = registry.settings.home / "index"
    current = (index_dir / "CURRENT").read_text().strip()
    (index_dir / current / "orb.faiss").write_bytes(b"garbage")
    with kenri.open(registry.settings.home, registry.settings.db_url) as other:
        assert other.screen_image(query).decision == "block"


def test_video_segments_locate_the_copied_stretch(registry, tmp_path):
    art = load_image(tmp_path / "catalog" / "art" / "hoshimaru.png")
    video = video_with_stretch(tmp_path / "q.mp4", art, start_s=4.0, length_s=3.0)
    result = registry.screen_video(video).to_dict()
    assert result["decision"] == "block"
    assert result["matches"][0]["character"] == "Hoshimaru"
    segments = [s for s in result["segments"] if s["reference"] == "hoshimaru.png"]
    assert len(segments) == 1
    assert abs(segments[0]["start"] - 4.0) <= 0.6 and abs(segments[0]["end"] - 7.0) <= 0.6
    clean = make_video(tmp_path / "clean.mp4", frames=30)
    assert registry.screen_video(clean).decision == "allow"
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[:300])
    assert registry.screen_video(cut).error


def test_reference_video_gives_reference_times(registry, tmp_path):
    art = load_image(tmp_path / "catalog" / "art" / "captain_comet.png")
    reference = video_with_stretch(tmp_path / "ref.mp4", art, start_s=2.0, length_s=4.0)
    with registry.transaction() as tx:
        work = tx.registry.add_work(tx.registry.holder("Nova Comics"), "Comet: The Movie")
        tx.registry.add_reference(reference, work)
    query = video_with_stretch(tmp_path / "q.mp4", art, 5.0, 3.0, scenery=500)
    result = registry.screen_video(query).to_dict()
    movie = [s for s in result["segments"] if s["reference"] == "ref.mp4"]
    assert movie, result
    assert movie[0]["reference_start"] is not None
    assert 1.5 <= movie[0]["reference_start"] <= 6.0


def test_cli_screen_image_json_lines(registry, tmp_path):
    art = tmp_path / "catalog" / "art"
    other = tmp_path / "other.png"
    Image.fromarray(unrelated_picture(2)).save(other)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    runner = CliRunner()
    home, db = str(registry.settings.home), registry.settings.db_url
    result = runner.invoke(
        cli_app,
        [
            "--home",
            home,
            "--db",
            db,
            "screen",
            "image",
            str(art / "kumo_chan.png"),
            str(broken),
            str(other),
            "--licensee",
            "Acme AI",
            "--top",
            "2",
            "--json",
        ],
    )
    assert result.exit_code == 2, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["input"] for line in lines] == [
        str(art / "kumo_chan.png"),
        str(broken),
        str(other),
    ]
    assert lines[0]["decision"] == "block" and lines[0]["matches"][0]["character"] == "Kumo-chan"
    assert set(lines[0]["matches"][0]) >= {
        "holder",
        "work",
        "character",
        "reference",
        "score",
        "evidence",
    }
    assert "error" in lines[1]
    assert lines[2]["decision"] == "allow" and len(lines[2]["matches"]) <= 2
    status = runner.invoke(cli_app, ["--home", home, "--db", db, "index", "status", "--json"])
    assert json.loads(status.stdout)["items"] == 4


def test_large_index_path_ivf_gives_the_same_answers(registry, tmp_path, monkeypatch):
    """Past the IVF threshold the local index is rebuilt as IVF; answers must not change."""
    import kenri.matching.matcher as matcher_module

    art = tmp_path / "catalog" / "art"
    queries = [edits(load_image(art / f"{n}.png"))["rotate"] for n in ("hoshimaru", "kumo_chan")]
    before = [registry.screen_image(q).matches[0].character for q in queries]
    monkeypatch.setattr(matcher_module, "IVF_THRESHOLD", 100)
    registry.rebuild_index()
    assert registry.matcher.snapshot.indexes["orb"].is_ivf
    assert [registry.screen_image(q).matches[0].character for q in queries] == before
    with kenri.open(registry.settings.home, registry.settings.db_url) as other:
        assert other.matcher.snapshot.indexes["orb"].is_ivf  # persisted as IVF
        assert [other.screen_image(q).decision for q in queries] == ["block", "block"]


def test_black_frames_match_nothing(registry, tmp_path):
    """A fade to black in a reference must not make every black frame a copy (PDQ quality)."""
    black = np.zeros((360, 480, 3), np.uint8)
    scenes = [unrelated_picture(700 + i // 10)[:360, :480].copy() for i in range(40)]
    reference = write_frames(tmp_path / "ref.mp4", [black] * 20 + scenes)
    with registry.transaction() as tx:
        work = tx.registry.add_work(tx.registry.holder("Nova Comics"), "Dark Opening")
        tx.registry.add_reference(reference, work)
    dark = write_frames(tmp_path / "dark.mp4", [black] * 30)
    assert registry.screen_video(dark).decision == "allow"
    assert registry.screen_image(black).decision == "allow"
    copied = write_frames(tmp_path / "copy.mp4", scenes)
    result = registry.screen_video(copied).to_dict()
    assert result["decision"] == "block"
    segment = result["segments"][0]
    assert segment["reference"] == "ref.mp4"
    assert 1.5 <= segment["reference_start"] <= 2.6  # the scenes start at 2 s in the reference

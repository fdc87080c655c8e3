"""Likeness: persons, their verified face photos, likeness grants, and face screening.

Faces come from scikit-image's bundled data: NASA's public-domain astronaut portrait (Eileen
Collins) and two crops of its LFW subset, upscaled (nothing is copied into the repository).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import kenri
from kenri.errors import InvalidInput, NotFound
from kenri.likeness.persons import Consent, add_face, add_person, consents, person
from tests.media_factory import unrelated_picture, write_frames

skimage_data = pytest.importorskip("skimage.data")
pytest.importorskip("dlib")

VERIFIED = Consent(verified_by="Agency desk (A. Sato)", method="passport seen on video call")


def astronaut() -> np.ndarray:
    return skimage_data.astronaut()


def lfw_face(index: int, side: int = 220) -> np.ndarray:
    """One LFW crop (25 px grey), upscaled to a detectable colour picture."""
    grey = (skimage_data.lfw_subset()[index] * 255).astype(np.uint8)
    grey = cv2.resize(grey, (side, side), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(np.stack([grey] * 3, axis=-1))


def collins_in_a_new_scene(shift: int = 0) -> np.ndarray:
    """The astronaut's head, rescaled and pasted on an unrelated scene: not a copy, a likeness."""
    head = astronaut()[20:240, 110:330]
    head = cv2.resize(head, (180, 180), interpolation=cv2.INTER_AREA)
    scene = unrelated_picture(seed=3).copy()
    scene[120 : 120 + 180, 60 + shift : 240 + shift] = head
    return scene


def save(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture
def world(app: kenri.Kenri, tmp_path: Path) -> kenri.Kenri:
    with app.transaction() as tx:
        agency = tx.registry.add_holder("Orbit Talent", "US")
        collins = add_person(tx, agency, "Eileen Collins", ["アイリーン・コリンズ"])
        add_face(tx, collins, save(tmp_path / "collins.png", astronaut()), VERIFIED)
        other = add_person(tx, tx.registry.add_holder("Ms Other", "JP"), "Hanako Other")
        add_face(tx, other, save(tmp_path / "other.png", lfw_face(1)), VERIFIED)
        tx.registry.add_licensee("Acme Video", "US")
    return app


def test_a_face_photo_needs_one_face_and_a_consent_record(app: kenri.Kenri, tmp_path: Path) -> None:
    with app.transaction() as tx:
        someone = add_person(tx, tx.registry.add_holder("Solo", "JP"), "Taro Solo")
        with pytest.raises(InvalidInput, match="no face found"):
            add_face(tx, someone, save(tmp_path / "scene.png", unrelated_picture()), VERIFIED)
        pair = np.concatenate([lfw_face(2), lfw_face(3)], axis=1)
        with pytest.raises(InvalidInput, match="2 faces found"):
            add_face(tx, someone, save(tmp_path / "pair.png", pair), VERIFIED)
        with pytest.raises(InvalidInput, match="verified_by"):
            add_face(tx, someone, save(tmp_path / "a.png", lfw_face(8)), Consent(" "))
        added = add_face(tx, someone, tmp_path / "a.png", VERIFIED)
        with pytest.raises(InvalidInput, match="already a face photo"):
            add_face(tx, someone, tmp_path / "a.png", VERIFIED)
        (record,) = consents(tx, someone)
        assert record.reference_id == added.reference.id
        assert record.verified_by == "Agency desk (A. Sato)"
        work = tx.registry.add_work(tx.registry.holder("Solo"), "A Film")
        with pytest.raises(InvalidInput, match="not a person"):
            add_face(tx, work, tmp_path / "a.png", VERIFIED)
        with pytest.raises(NotFound, match="not a person"):
            person(tx, "A Film")
    with app.transaction() as tx:
        from kenri.audit.log import AuditEntry

        actions = [e.action for e in tx.session.query(AuditEntry).order_by(AuditEntry.seq)]
        assert actions.count("likeness.consent") == 1 and "person.create" in actions


def test_likeness_is_granted_on_persons_only_and_per_user(world: kenri.Kenri) -> None:
    with world.transaction() as tx:
        acme = tx.registry.licensee("Acme Video")
        collins = person(tx, "Eileen Collins")
        with pytest.raises(InvalidInput, match="only be granted for likeness"):
            tx.ledger.grant(acme, collins, ["generation"])
        work = tx.registry.add_work(tx.registry.holder("Orbit Talent"), "Space Show")
        with pytest.raises(InvalidInput, match="granted on persons"):
            tx.ledger.grant(acme, work, ["likeness"])
        grant = tx.ledger.grant(acme, collins, ["likeness"], users=["user-17"])
        # Whatever the purpose asked, a person is used as a likeness.
        assert tx.ledger.may(acme, collins, "generation", user="user-17").allowed
        assert tx.ledger.may(acme, collins, "training", user="user-17").allowed
        denied = tx.ledger.may(acme, collins, "generation", user="user-99")
        assert not denied.allowed and "not user-99" in denied.reason
        assert not tx.ledger.may(acme, collins, "generation").allowed  # no user named
        tx.ledger.revoke(grant, "consent withdrawn")
        assert not tx.ledger.may(acme, collins, "generation", user="user-17").allowed


def test_a_registered_face_blocks_without_a_grant(world: kenri.Kenri) -> None:
    (result,) = world.screen_images([collins_in_a_new_scene()], licensee="Acme Video")
    assert result.decision == "block"
    top = result.matches[0]
    assert (top.work, top.holder) == ("Eileen Collins", "Orbit Talent")
    assert top.evidence["signal"] == "face" and top.evidence["distance"] < 0.5
    x0, y0, x1, y1 = top.evidence["box"]
    assert 40 <= x0 < x1 <= 260 and 100 <= y0 < y1 <= 320  # the pasted head, not elsewhere
    assert top.reference == "collins.png" and top.grant is None
    assert all(m.work != "Hanako Other" for m in result.matches if m.score >= 0.5)


def test_a_user_limited_likeness_grant_allows_that_user_only(world: kenri.Kenri) -> None:
    with world.transaction() as tx:
        tx.ledger.grant(
            tx.registry.licensee("Acme Video"), person(tx, "Eileen Collins"), ["likeness"],
            users=["user-17"],
        )  # fmt: skip
    scene = collins_in_a_new_scene()
    (allowed,) = world.screen_images([scene], licensee="Acme Video", user="user-17")
    assert allowed.decision == "allow" and allowed.matches[0].grant is not None
    (blocked,) = world.screen_images([scene], licensee="Acme Video", user="user-99")
    assert blocked.decision == "block"


def test_unregistered_faces_and_faceless_pictures_pass(world: kenri.Kenri) -> None:
    # Upscaled 25 px crops lose much of a face's identity: some pairs of different people
    # come as close as 0.54 (bench/likeness.py measures it). These four are 0.66-0.9 away.
    pictures = [lfw_face(i) for i in (2, 5, 6, 7)] + [unrelated_picture(seed=11)]
    for result in world.screen_images(pictures, licensee="Acme Video"):
        assert result.decision == "allow", result.to_dict()


def test_video_frames_with_the_face_are_the_segment(world: kenri.Kenri, tmp_path: Path) -> None:
    blank = [cv2.resize(unrelated_picture(seed=5), (480, 360)) for _ in range(20)]
    with_face = [cv2.resize(collins_in_a_new_scene(shift=4 * i), (480, 360)) for i in range(20)]
    video = write_frames(tmp_path / "cameo.mp4", blank + with_face + blank, fps=10)
    result = world.screen_video(video, licensee="Acme Video")
    assert result.decision == "block", result.to_dict()
    face = next(m for m in result.matches if m.evidence.get("signal") == "face")
    assert face.work == "Eileen Collins"
    times = [f["time"] for f in face.evidence["frames"]]
    assert times and min(times) >= 1.9 and max(times) <= 4.1
    (segment,) = [s for s in result.segments if s.reference_id == face.reference_id]
    assert 1.9 <= segment.start <= 2.6 and 3.4 <= segment.end <= 4.6


def test_prompts_naming_a_person_need_a_likeness_grant(world: kenri.Kenri) -> None:
    for prompt in ("Eileen Collins dancing on the moon", "アイリーン・コリンズが月で踊る"):
        result = world.screen_prompt(prompt, licensee="Acme Video")
        assert result.decision == "block", result.to_dict()
        assert result.matches[0].work == "Eileen Collins"
    with world.transaction() as tx:
        tx.ledger.grant(
            tx.registry.licensee("Acme Video"), person(tx, "Eileen Collins"), ["likeness"]
        )
    assert world.screen_prompt("Eileen Collins dancing", licensee="Acme Video").decision == (
        "allow"
    )
    assert world.screen_prompt("an astronaut dancing on the moon").decision == "allow"


def test_person_cli(home: Path, db_url: str, tmp_path: Path) -> None:
    from kenri.cli.main import app as cli

    runner = CliRunner()
    base = ["--home", str(home), "--db", db_url]

    def run(*args: str) -> dict:
        result = runner.invoke(cli, [*base, *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    run("holder", "add", "Orbit Talent", "--country", "US")
    run("person", "add", "Eileen Collins", "--holder", "Orbit Talent", "--alias", "E. Collins")
    photo = save(tmp_path / "collins.png", astronaut())
    added = run("person", "face", "Eileen Collins", str(photo), "--verified-by", "desk")
    assert added["person"] == "Eileen Collins" and added["verified_by"] == "desk"
    (listed,) = run("person", "list")
    assert listed["faces"] == 1 and listed["kind"] == "person"
    run("licensee", "add", "Acme Video")
    grant = run(
        "grant", "add", "--licensee", "Acme Video", "--person", "Eileen Collins",
        "--purpose", "likeness", "--user", "user-17",
    )  # fmt: skip
    assert grant["users"] == ["user-17"] and grant["purposes"] == ["likeness"]
    scene = save(tmp_path / "scene.png", collins_in_a_new_scene())
    screened = run("screen", "image", str(scene), "--licensee", "Acme Video", "--user", "user-17")
    assert screened["decision"] == "allow" and screened["matches"][0]["grant"]["id"] == grant["id"]
    faceless = save(tmp_path / "faceless.png", unrelated_picture())
    refused = runner.invoke(
        cli, [*base, "person", "face", "Eileen Collins", str(faceless), "--verified-by", "x"]
    )
    assert refused.exit_code != 0 and "no face found" in refused.output


def test_the_guard_blocks_a_cameo_without_consent(world: kenri.Kenri) -> None:
    from kenri.provenance.guard import Guard

    def generator(_prompt: str) -> np.ndarray:
        return collins_in_a_new_scene()

    refused = Guard(world, "Acme Video", user="user-17").generate_image("an astronaut", generator)
    assert refused.decision == "block" and refused.media is None
    assert refused.output.matches[0].work == "Eileen Collins"
    with world.transaction() as tx:
        grant = tx.ledger.grant(
            tx.registry.licensee("Acme Video"), person(tx, "Eileen Collins"), ["likeness"],
            users=["user-17"],
        )  # fmt: skip
        grant_id = grant.id
    made = Guard(world, "Acme Video", user="user-17").generate_image("an astronaut", generator)
    assert made.decision == "allow" and made.media is not None and made.grants == [grant_id]

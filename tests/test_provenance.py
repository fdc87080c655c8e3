"""Provenance: manifests signed and verified offline, the Guard around a generator, tracing a
file back to its generation by manifest, watermark or ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import kenri
from kenri.catalog import import_catalog
from kenri.cli.main import app as cli_app
from kenri.demo.generator import toy_image, toy_video
from kenri.demo.run import write_catalog
from kenri.provenance.generations import Generation, grant_usage
from kenri.provenance.guard import Guard
from kenri.provenance.manifests import (
    DECISION_LABEL,
    Signing,
    SigningError,
    build_manifest,
    local_key_callback,
    read_manifest,
    sign_media,
)
from kenri.provenance.testca import make_test_ca
from kenri.provenance.trace import trace_media


def _jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture
def world(app: kenri.Kenri, tmp_path: Path) -> kenri.Kenri:
    assert not import_catalog(app, write_catalog(tmp_path / "catalog")).errors
    with app.transaction() as tx:
        tx.registry.add_licensee("Acme AI", "US")
    return app


# -- manifests, offline -----------------------------------------------------------------------
def test_sign_and_verify_offline_with_a_test_ca_and_a_callback(tmp_path: Path) -> None:
    ca = make_test_ca(tmp_path / "ca")
    assert oct(ca.key.stat().st_mode & 0o777) == "0o600"
    anchors = ca.root.read_text()
    picture = _jpeg(toy_image("a harbour"))
    manifest = build_manifest(7, "allow", [3], "notAllowed", "test generator")
    for signing in (
        Signing.from_files(ca.chain, ca.key),
        Signing.from_callback(local_key_callback(ca.key), ca.chain.read_bytes()),  # a KMS
    ):
        signed = sign_media(picture, "image/jpeg", manifest, signing)
        report = read_manifest(signed, "image/jpeg", anchors)
        assert report is not None and report.trusted and report.failures == []
        assert report.generation == 7
        assert report.assertions[DECISION_LABEL] == {"generation": 7, "decision": "allow",
                                                     "grants": [{"id": 3}]}  # fmt: skip
        uses = report.assertions["cawg.training-mining"]["entries"]
        assert uses["cawg.ai_generative_training"] == {"use": "notAllowed"}
        actions = report.assertions["c2pa.actions.v2"]["actions"]
        assert actions[0]["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    # Another CA's root does not vouch for it: valid signature, untrusted signer, no generation.
    stranger = read_manifest(
        signed, "image/jpeg", make_test_ca(tmp_path / "other").root.read_text()
    )
    assert stranger.state == "Valid" and "signingCredential.untrusted" in stranger.failures
    assert stranger.generation is None
    # Stripped by a re-encode: no manifest at all.
    assert read_manifest(_jpeg(_pixels(signed)), "image/jpeg", anchors) is None


def test_a_tampered_file_fails_verification(tmp_path: Path) -> None:
    ca = make_test_ca(tmp_path / "ca")
    signed = sign_media(_jpeg(toy_image("a desert")), "image/jpeg",
                        build_manifest(1, "allow", [], "allowed", "g"),
                        Signing.from_files(ca.chain, ca.key))  # fmt: skip
    tampered = bytearray(signed)
    tampered[-200] ^= 0x55  # inside the JPEG scan: the picture still decodes
    _pixels(bytes(tampered))
    report = read_manifest(bytes(tampered), "image/jpeg", ca.root.read_text())
    assert report.state == "Invalid" and "assertion.dataHash.mismatch" in report.failures
    assert report.generation is None  # a forged or damaged manifest names nothing


def test_a_certificate_c2pa_refuses_is_a_clear_error(tmp_path: Path) -> None:
    ca = make_test_ca(tmp_path / "ca")
    root_only = tmp_path / "root-as-signer.pem"
    root_only.write_bytes(ca.root.read_bytes())
    with pytest.raises(SigningError, match="could not sign"):
        signing = Signing.from_callback(local_key_callback(ca.key), root_only.read_bytes())
        manifest = build_manifest(1, "allow", [], "allowed", "g")
        sign_media(_jpeg(toy_image("x")), "image/jpeg", manifest, signing)


# -- the Guard and tracing --------------------------------------------------------------------
def test_guard_marks_records_and_traces_by_every_route(world: kenri.Kenri) -> None:
    guard = Guard(world, "Acme AI", generator="toy")
    out = guard.generate_image("a lighthouse at dawn", toy_image)
    assert out.decision == "allow" and out.mime == "image/png" and out.generation_id
    pixels = _pixels(out.media)
    original = toy_image("a lighthouse at dawn")
    psnr = 10 * np.log10(255**2 / np.mean((pixels.astype(float) - original) ** 2))
    assert psnr >= 40  # the watermark is invisible
    with world.transaction() as tx:
        row = tx.session.get(Generation, out.generation_id)
        assert row.decision == "allow" and row.media_kind == "image" and len(row.pdq) == 32
        assert row.prompt == "a lighthouse at dawn"

    signed = trace_media(world, out.media)
    assert (signed.route, signed.generation) == ("manifest", out.generation_id)
    h, w = pixels.shape[:2]
    copies = {
        "stripped": _png(pixels),
        "jpeg q50": _jpeg(pixels, 50),
        "half size": _png(np.asarray(Image.fromarray(pixels).resize((w // 2, h // 2)))),
        "crop 10%": _png(pixels[h // 20 : h - h // 20, w // 20 : w - w // 20]),
    }
    for name, data in copies.items():
        found = trace_media(world, data)
        assert (found.route, found.generation) == ("watermark", out.generation_id), name
    # Without the watermark (the generator's raw output leaked) the ledger still finds it.
    leaked = trace_media(world, _png(original))
    assert (leaked.route, leaked.generation) == ("ledger", out.generation_id)
    # Something nobody generated traces to nothing.
    stranger = trace_media(world, _png(toy_image("an unrelated prompt")), every_route=True)
    assert stranger.route is None and stranger.generation is None
    assert stranger.watermark.generation is None


def test_guard_blocks_named_prompts_before_and_memorised_characters_after(world) -> None:
    guard = Guard(world, "Acme AI")
    calls: list[str] = []

    def generator(prompt: str) -> np.ndarray:
        calls.append(prompt)
        return toy_image(prompt)

    named = guard.generate_image("Hoshimaru eating ramen", generator)
    assert named.decision == "block" and named.media is None and calls == []
    described = guard.generate_image("a star mascot in a meadow", generator)  # no name at all
    assert calls == ["a star mascot in a meadow"]
    assert described.decision == "block" and described.media is None
    assert described.output.matches[0].character == "Hoshimaru"
    with world.transaction() as tx:
        row = tx.session.get(Generation, described.generation_id)
        assert row.decision == "block" and row.details["stage"] == "output"
    # The blocked output was never released, yet a copy of it is traceable to the attempt.
    found = trace_media(world, _png(toy_image("a star mascot in a meadow")))
    assert (found.route, found.generation) == ("ledger", described.generation_id)


def test_licensed_outputs_carry_their_grants_and_the_holders_word_on_training(world) -> None:
    with world.transaction() as tx:
        acme = tx.registry.licensee("Acme AI")
        grant = tx.ledger.grant(acme, tx.registry.character("Hoshimaru"),
                                ["generation"])  # fmt: skip
        grant_id = grant.id
    out = Guard(world, "Acme AI").generate_image("a star mascot in a meadow", toy_image)
    assert out.decision == "allow" and out.grants == [grant_id]
    assert out.training_use == "notAllowed"  # the grant covers generation, not training
    report = trace_media(world, out.media).manifest
    assert report.assertions[DECISION_LABEL]["grants"] == [{"id": grant_id}]
    uses = report.assertions["cawg.training-mining"]["entries"]
    assert uses["cawg.ai_training"] == {"use": "notAllowed"}
    with world.transaction() as tx:
        assert grant_usage(tx, [grant_id]) == {grant_id: 1}


def test_video_is_marked_signed_and_traced_after_a_low_bitrate_reencode(world, tmp_path) -> None:
    out = Guard(world, "Acme AI").generate_video("a river at night", toy_video)
    assert out.decision == "allow" and out.mime == "video/mp4"
    assert trace_media(world, out.media).route == "manifest"
    source = tmp_path / "marked.mp4"
    source.write_bytes(out.media)
    smaller = tmp_path / "reencoded.mp4"
    with av.open(str(source)) as src, av.open(str(smaller), "w") as dst:
        stream = dst.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 512, 288, "yuv420p"
        stream.bit_rate = 300_000
        for frame in src.decode(video=0):
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    assert smaller.stat().st_size < source.stat().st_size
    found = trace_media(world, smaller.read_bytes(), every_route=True)
    assert found.manifest is None
    assert (found.route, found.generation) == ("watermark", out.generation_id)
    assert found.watermark.frames_agreeing >= found.watermark.frames_read // 2


def test_a_failed_signature_records_nothing(world) -> None:
    def broken_kms(_data: bytes) -> bytes:
        raise RuntimeError("HSM offline")

    ca = make_test_ca(world.settings.home / "elsewhere")
    guard = Guard(
        world, "Acme AI", signing=Signing.from_callback(broken_kms, ca.chain.read_bytes())
    )
    with world.transaction() as tx:
        before = tx.session.query(Generation).count()
    with pytest.raises(SigningError):
        guard.generate_image("a quiet pond", toy_image)
    with world.transaction() as tx:
        assert tx.session.query(Generation).count() == before


def test_cli_trace_and_verify(world, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KENRI_HOME", str(world.settings.home))
    monkeypatch.setenv("KENRI_DB", world.settings.db_url)
    runner = CliRunner()
    out = str(tmp_path / "o.png")
    made = runner.invoke(
        cli_app, ["provenance", "generate", "a windmill", "--licensee", "Acme AI", "--out", out,
                  "--json"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    generation = json.loads(made.output)["generation"]
    traced = runner.invoke(cli_app, ["trace", str(tmp_path / "o.png"), "--json"])
    assert traced.exit_code == 0, traced.output
    assert json.loads(traced.output)["route"] == "manifest"
    assert json.loads(traced.output)["generation"] == generation
    verified = runner.invoke(cli_app, ["provenance", "verify", str(tmp_path / "o.png"), "--json"])
    report = json.loads(verified.output)
    assert verified.exit_code == 0 and report["manifest"]["trusted"]
    assert report["watermark"]["id"] == generation == report["ledger"][0]["generation"]
    stripped = tmp_path / "stripped.png"
    stripped.write_bytes(_png(_pixels((tmp_path / "o.png").read_bytes())))
    again = json.loads(runner.invoke(cli_app, ["trace", str(stripped), "--json"]).output)
    assert (again["route"], again["generation"]) == ("watermark", generation)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    bad = runner.invoke(cli_app, ["trace", str(junk), "--json"])
    assert bad.exit_code == 1 and "not a readable image or video" in json.loads(bad.output)["error"]
    nothing = runner.invoke(cli_app, ["trace", str(tmp_path / "missing.png"), "--json"])
    assert nothing.exit_code == 1 and "no such file" in nothing.output


def test_the_guard_example_runs(tmp_path: Path, monkeypatch) -> None:
    import importlib.util

    monkeypatch.delenv("KENRI_DB", raising=False)
    path = Path(__file__).resolve().parent.parent / "examples" / "guarded_generator.py"
    spec = importlib.util.spec_from_file_location("guarded_generator", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    rows = example.main(tmp_path / "home")
    assert [r["decision"] for r in rows] == ["allow", "block", "block"]
    assert rows[0]["stripped_copy_traced_by"] == "watermark"
    assert rows[0]["stripped_copy_generation"] == rows[0]["generation"]

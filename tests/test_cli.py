"""The CLI end to end: every command, --json everywhere, clear errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kenri.cli.main import app
from kenri.demo.run import write_catalog

runner = CliRunner()


@pytest.fixture
def cli(home: Path, db_url: str):
    def run(*args: str, code: int = 0):
        result = runner.invoke(app, ["--home", str(home), "--db", db_url, *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return run


def js(result):
    return json.loads(result.stdout)


def test_full_workflow(cli, tmp_path):
    assert js(cli("init", "--json"))["home"]
    catalog = write_catalog(tmp_path / "cat")
    summary = js(cli("import", str(catalog), "--json"))
    assert (summary["created"], summary["errors"]) == (4, [])
    assert js(cli("import", str(catalog), "--json"))["unchanged"] == 4

    characters = js(cli("character", "list", "--json"))
    assert isinstance(characters, list) and len(characters) == 3
    hoshimaru = next(c for c in characters if c["name"] == "Hoshimaru")
    assert {"text": "星丸", "script": "kanji", "lang": None} in hoshimaru["names"]
    assert hoshimaru["holder"] == "Studio Kumo" and hoshimaru["country"] == "JP"

    shown = js(cli("character", "show", "ほしまる", "--json"))
    assert shown["references"][0]["mime"] == "image/png"
    assert shown["descriptions"]
    ref_id = str(shown["references"][0]["id"])
    assert Path(js(cli("reference", "show", ref_id, "--json"))["path"]).is_file()

    assert js(cli("holder", "list", "--json"))[0]["name"] == "Studio Kumo"
    assert "Lantern Town" in js(cli("holder", "show", "Studio Kumo", "--json"))["works"]
    work = js(cli("work", "show", "灯籠町", "--json"))
    assert work["title"] == "Lantern Town" and len(work["references"]) == 1
    assert len(js(cli("work", "list", "--holder", "Nova Comics", "--json"))) == 1

    cli("licensee", "add", "Acme AI", "--country", "US", "--json")
    denied = js(
        cli(
            "consent",
            "check",
            "--licensee",
            "Acme AI",
            "--character",
            "星丸",
            "--purpose",
            "generation",
            "--territory",
            "JP",
            "--json",
        )
    )
    assert denied == {"decision": "deny", "grant": None, "reason": denied["reason"]}
    assert denied["reason"].startswith("no grant: prior permission required")

    grant = js(
        cli(
            "grant",
            "add",
            "--licensee",
            "Acme AI",
            "--work",
            "Hoshimaru Adventures",
            "--purpose",
            "generation",
            "--purpose",
            "style",
            "--territory",
            "JP",
            "--from",
            "2026-01-01",
            "--until",
            "2027-01-01",
            "--fee",
            "JPY 1,000,000",
            "--json",
        )
    )
    assert grant["purposes"] == ["generation", "style"] and grant["territories"] == ["JP"]
    args = [
        "consent",
        "check",
        "--licensee",
        "Acme AI",
        "--character",
        "Kumo-chan",
        "--purpose",
        "generation",
        "--territory",
        "JP",
        "--json",
    ]
    allowed = js(cli(*args, "--at", "2026-06-01"))
    assert allowed["decision"] == "allow" and allowed["grant"]["id"] == grant["id"]
    assert js(cli(*args, "--at", "2027-01-01"))["decision"] == "deny"

    revoked = js(
        cli(
            "grant",
            "revoke",
            str(grant["id"]),
            "--reason",
            "contract ended",
            "--at",
            "2026-03-01",
            "--json",
        )
    )
    assert revoked["revoked_at"].startswith("2026-03-01")
    assert js(cli(*args, "--at", "2026-06-01"))["decision"] == "deny"
    assert js(cli(*args, "--at", "2026-02-01"))["decision"] == "allow"
    assert js(cli("grant", "list", "--json"))[0]["revoke_reason"] == "contract ended"
    assert js(cli("grant", "list", "--active", "--json")) == []
    assert js(cli("licensee", "show", "Acme AI", "--json"))["grants"][0]["id"] == grant["id"]
    cli("grant", "revoke", str(grant["id"]), "--reason", "again", code=1)

    # Tables (no --json) print too.
    assert "Hoshimaru" in cli("character", "list").stdout
    assert "deny" in cli(*args[:-1], "--at", "2026-06-01").stdout


def test_manual_registration_and_references(cli, art, tmp_path):
    cli("holder", "add", "Toho", "--country", "JP")
    cli("work", "add", "Godzilla", "--holder", "Toho", "--title", "ゴジラ")
    made = js(
        cli(
            "character",
            "add",
            "Godzilla",
            "--work",
            "ゴジラ",
            "--name",
            "Gojira",
            "--description",
            "giant reptile breathing atomic fire",
            "--json",
        )
    )
    assert [n["text"] for n in made["names"]] == ["Godzilla", "Gojira"]
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    result = cli(
        "reference",
        "add",
        str(art["hoshimaru"]),
        str(bad),
        str(art["kumo_chan"]),
        "--character",
        "Godzilla",
        "--json",
        code=2,
    )
    rows = js(result)
    assert [("error" in r) for r in rows] == [False, True, False]
    assert "not an image or video" in rows[1]["error"]
    again = js(cli("reference", "add", str(art["hoshimaru"]), "--character", "Godzilla", "--json"))
    assert again[0]["created"] is False
    listed = js(cli("reference", "list", "--character", "Godzilla", "--json"))
    assert len(listed) == 2
    removed = js(cli("reference", "remove", str(listed[0]["id"]), "--json"))
    assert removed["removed_at"]
    assert len(js(cli("reference", "list", "--character", "Godzilla", "--json"))) == 1
    assert len(js(cli("reference", "list", "--all", "--json"))) == 2


def test_errors_are_clear(cli, tmp_path):
    cli("holder", "add", "Toho", "--country", "JP")
    out = js(cli("holder", "add", "Toho", "--json", code=1))
    assert "already exists" in out["error"]
    assert "no character" in js(cli("character", "show", "Nobody", "--json", code=1))["error"]
    assert (
        "no work with id 99"
        in js(
            cli(
                "consent",
                "check",
                "--licensee",
                "X",
                "--work",
                "99",
                "--purpose",
                "training",
                "--json",
                code=1,
            )
        )["error"]
    )
    assert "country" in cli("holder", "add", "Bad", "--country", "Japan!", code=1).stderr
    cli("work", "add", "Link Saga", "--holder", "Toho")
    cli("work", "add", "Other Saga", "--holder", "Toho")
    cli("character", "add", "Link", "--work", "Link Saga")
    cli("character", "add", "Link", "--work", "Other Saga")
    assert "ambiguous" in js(cli("character", "show", "Link", "--json", code=1))["error"]
    assert (
        js(cli("character", "show", "Link", "--work", "Other Saga", "--json"))["work"]
        == "Other Saga"
    )
    cli("licensee", "add", "Acme")
    bad_date = js(
        cli(
            "grant",
            "add",
            "--licensee",
            "Acme",
            "--work",
            "Link Saga",
            "--purpose",
            "training",
            "--from",
            "yesterday",
            "--json",
            code=1,
        )
    )
    assert "not a date" in bad_date["error"]
    nothing = js(
        cli("grant", "add", "--licensee", "Acme", "--purpose", "training", "--json", code=1)
    )
    assert "--work or --character" in nothing["error"]
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"holder": "A", "work": "B"}\n{oops\n')
    summary = js(cli("import", str(broken), "--json", code=2))
    assert summary["created"] == 1 and summary["errors"][0]["line"] == 2


def test_console_script_and_demo(tmp_path):
    """The installed entry point runs the demo on a fresh data folder (embedded defaults)."""
    kenri_bin = Path(sys.executable).parent / "kenri"
    command = [str(kenri_bin)] if kenri_bin.exists() else [sys.executable, "-m", "kenri"]
    env = {"KENRI_HOME": str(tmp_path / "h"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([*command, "demo"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "demo finished" in done.stdout
    assert "history before revocation" in done.stdout
    assert (tmp_path / "h" / "demo" / "registry.sqlite").is_file()


def test_demo_json(tmp_path):
    result = runner.invoke(app, ["demo", "--home", str(tmp_path / "d"), "--json"])
    assert result.exit_code == 0, result.output
    demo = json.loads(result.stdout)
    by_case = {a["case"]: a["decision"] for a in demo["consent"]}
    assert by_case["before any grant"] == "deny"
    assert by_case["work grant covers its characters"] == "allow"
    assert by_case["after revocation"] == "deny"
    assert by_case["history before revocation"] == "allow"
    decisions = [(r["decision"], [m["character"] for m in r["matches"]]) for r in demo["screening"]]
    assert decisions == [
        ("block", ["Hoshimaru"]),  # pasted, rotated copy: no grant
        ("allow", ["Captain Comet"]),  # cropped mirror image: Acme holds a generation grant
        ("allow", []),  # an original picture
    ]
    assert demo["screening"][1]["matches"][0]["grant"]["licensee"] == "Acme Video AI"

"""The claims of docs/security.md that no other test checks, one test each (that document names
the test behind every claim, here or elsewhere). Database tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import secrets
import socket
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import kenri
from kenri.claims.webhooks import deliver_pending, sign, verify_signature
from kenri.maintenance.backup import export
from kenri.portal.sessions import PortalSession
from kenri.provenance.keys import default_signing
from kenri.provenance.keys import test_ca_folder as signing_folder
from kenri.registry.models import Base, Reference
from kenri.screening.dataset.sources import Shard, read_items
from kenri.service.app import create_app
from kenri.service.auth import Caller, KeyCache
from kenri.service.tenants import ApiKey
from tests.service_world import World, build_world, png

WEBHOOK_SECRET = "whsec-" + secrets.token_hex(16)


@dataclass
class Secured:
    """The service world plus every kind of secret it hands out, to look for afterwards."""

    world: World
    app: kenri.Kenri
    keys: list[str]  # every API key issued (by the operator, by tenants themselves, a revoked one)
    session_token: str  # a portal session cookie
    webhook_secret: str

    def needles(self) -> dict[str, str]:
        """What must never be written down: each key and its random part, the cookie token."""
        found = {}
        for key in self.keys:
            found[key] = key
            found[f"random part of {key[:19]}"] = key.split("_", 2)[2]
        found["portal session token"] = self.session_token
        return found


def _sign_in(client: TestClient, key: str) -> str:
    response = client.post("/portal/login", data={"api_key": key}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.cookies["kenri_session"]


def _secure(app: kenri.Kenri) -> Secured:
    world = build_world(app)
    rotated = world.ok("licenseeA", "POST", "/v1/keys", json={"label": "rotation"})
    revoked = world.ok("holderB", "POST", "/v1/keys", json={"label": "to revoke"})
    world.ok("holderB", "DELETE", f"/v1/keys/{revoked['prefix']}")
    world.ok("licenseeA", "POST", "/v1/webhooks",
             json={"url": "http://127.0.0.1:9/receiver", "secret": WEBHOOK_SECRET})  # fmt: skip
    # A claim change queues deliveries for both parties' hooks: webhook bodies are stored too.
    world.ok("licenseeA", "POST", f"/v1/claims/{world.ids['claim']}/actions",
             json={"action": "reply", "note": "grant 1"})  # fmt: skip
    with app.transaction() as tx:
        deliver_pending(tx.session)  # nobody listens on port 9: each failure is recorded
    token = _sign_in(TestClient(world.client.app), world.keys["holderA"])
    keys = [*world.keys.values(), rotated["key"], revoked["key"]]
    return Secured(world, app, keys, token, WEBHOOK_SECRET)


@pytest.fixture
def secured(app):
    made = _secure(app)
    yield made
    made.world.close()


def _all_cells(app: kenri.Kenri) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every cell of every table kenri has."""
    cells = []
    with app.db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    if value is not None:
                        text = value if isinstance(value, str) else json.dumps(value, default=str)
                        cells.append((table.name, column, text))
    return cells


# -- secrets at rest -----------------------------------------------------------------------------
def test_no_table_holds_a_raw_api_key_or_session_token(secured: Secured) -> None:
    cells = _all_cells(secured.app)
    assert {table for table, _, _ in cells} >= {"api_keys", "portal_sessions", "audit_log",
                                                 "webhooks", "webhook_deliveries"}  # fmt: skip
    for name, needle in secured.needles().items():
        hits = [(table, column) for table, column, text in cells if needle in text]
        assert not hits, f"{name} is stored in {hits}"
    # The webhook secret is the one stored in clear (HMAC needs it), and only in its own column.
    hits = {(table, column) for table, column, text in cells if secured.webhook_secret in text}
    assert hits == {("webhooks", "secret")}


def test_api_keys_and_session_tokens_are_stored_as_sha256(secured: Secured) -> None:
    with secured.app.transaction() as tx:
        rows = {row.prefix: row for row in tx.session.scalars(select(ApiKey))}
        sessions = tx.session.scalars(select(PortalSession)).all()
        for key in secured.keys:
            prefix = key.split("_")[1]
            assert rows[prefix].sha256 == hashlib.sha256(key.encode()).hexdigest()
        assert len(rows) == len(secured.keys)
        digest = hashlib.sha256(secured.session_token.encode()).hexdigest()
        assert [s.token_sha256 for s in sessions] == [digest]


def test_the_audit_log_names_keys_by_prefix_only(secured: Secured) -> None:
    entries = secured.world.ok("operator", "GET", "/v1/audit", params={"limit": 1000})
    dumped = json.dumps(entries)
    for name, needle in [*secured.needles().items(), ("webhook secret", secured.webhook_secret)]:
        assert needle not in dumped, f"{name} is in the audit log"
    issued = [e for e in entries if e["action"] == "key.issue"]
    assert len(issued) == len(secured.keys)
    prefixes = {key.split("_")[1] for key in secured.keys}
    assert {e["data"]["key"] for e in issued} == prefixes
    assert [e["data"]["key"] for e in entries if e["action"] == "key.revoke"] == [
        secured.keys[-1].split("_")[1]
    ]


def test_screening_audits_a_digest_of_the_prompt_not_the_prompt(app) -> None:
    world = build_world(app)
    try:
        prompt = f"a lighthouse painted by {secrets.token_hex(8)}"
        world.ok("licenseeA", "POST", "/v1/screen/prompt", json={"prompt": prompt})
        cells = _all_cells(app)
        assert not [table for table, _, text in cells if table == "audit_log" and prompt in text]
        digest = "sha256:" + hashlib.sha256(prompt.encode()).hexdigest()
        entries = world.ok("licenseeA", "GET", "/v1/audit", params={"limit": 1000})
        assert [e["subject"] for e in entries if e["action"] == "screen.prompt"] == [digest]
    finally:
        world.close()


def test_an_export_holds_no_raw_key_token_or_signing_key(secured: Secured, tmp_path) -> None:
    app = secured.app
    default_signing(app.settings)  # the test CA's private key now exists under the data folder
    signer_key = (signing_folder(app.settings) / "signer_key.pem").read_text()
    assert "PRIVATE KEY" in signer_key
    export(app.db.engine, app.settings.media_dir, tmp_path / "backup")
    files = {p.relative_to(tmp_path / "backup").as_posix(): p.read_bytes()
             for p in (tmp_path / "backup").rglob("*") if p.is_file()}  # fmt: skip
    assert "tables/api_keys.jsonl" in files and "tables/portal_sessions.jsonl" in files
    pem_body = "".join(signer_key.splitlines()[1:-1]).encode()
    for relative, data in files.items():
        assert b"PRIVATE KEY" not in data and pem_body[:40] not in data, relative
        for name, needle in secured.needles().items():
            assert needle.encode() not in data, f"{name} is in {relative}"
    # What an export does hold (docs/security.md says so): webhook secrets, in their table.
    holding = {r for r, data in files.items() if secured.webhook_secret.encode() in data}
    assert holding == {"tables/webhooks.jsonl"}


# -- secrets in answers and logs -----------------------------------------------------------------
def test_listings_never_return_a_key_its_hash_or_a_webhook_secret(secured: Secured) -> None:
    world = secured.world
    for who in ("holderA", "holderB", "licenseeA", "operator"):
        for path in ("/v1/keys", "/v1/webhooks", "/v1/me"):
            text = world.call(who, "GET", path).text
            assert "sha256" not in text and "secret" not in text, (who, path)
            assert secured.webhook_secret not in text
            for needle in secured.needles().values():
                assert needle not in text, (who, path)
    assert "key" not in world.ok("operator", "GET", "/v1/tenants")[0]


def test_refusals_do_not_echo_the_presented_key(secured: Secured, app) -> None:
    client = secured.world.client
    unknown = f"kenri_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    revoked = secured.keys[-1]
    expiring = secured.world.ok("holderA", "POST", "/v1/keys", json={"expires_in_days": 1})["key"]
    with app.transaction() as tx:
        row = tx.session.scalar(select(ApiKey).where(ApiKey.prefix == expiring.split("_")[1]))
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    for key, why in ((unknown, "unknown"), (revoked, "revoked"), (expiring, "expired")):
        response = client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 401 and why in response.json()["detail"]
        assert key.split("_", 2)[2] not in response.text
        page = client.post("/portal/login", data={"api_key": key})
        assert page.status_code == 401 and key.split("_", 2)[2] not in page.text


def test_odd_or_oversized_credentials_are_a_401(secured: Secured) -> None:
    client = secured.world.client
    for value in ("Basic " + secured.keys[0], "Bearer " + "kenri_" + "a" * 10_000,
                  "Bearer not-a-kenri-key", "Bearer kenri_", "Bearer kenri__"):  # fmt: skip
        response = client.get("/v1/me", headers={"Authorization": value})
        assert response.status_code == 401, (value[:30], response.text)


def test_application_logs_carry_no_key_token_or_secret(app, caplog) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    made = _secure(app)
    try:
        client = TestClient(made.world.client.app)
        token = _sign_in(client, made.keys[0])
        client.get("/portal/works")
        for key in made.keys:
            client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})
        records = caplog.records
        assert records, "nothing was logged: the test would prove nothing"
        logged = caplog.text + "".join(repr(r.args) + repr(r.msg) for r in records)
        for name, needle in [*made.needles().items(), ("second session", token),
                             ("webhook secret", made.webhook_secret)]:  # fmt: skip
            assert needle not in logged, f"{name} was logged"
    finally:
        made.world.close()


def test_the_servers_access_log_carries_no_key_token_or_secret(app, caplog) -> None:
    """A real uvicorn, as ``kenri serve`` runs it: its access log names method, path and status;
    secrets travel in headers and POST bodies only, never in a URL."""
    import uvicorn

    made = _secure(app)
    made.world.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(app, deliver_webhooks=False),
                                           host="127.0.0.1", port=port, log_config=None,
                                           access_log=True, log_level="debug"))  # fmt: skip
    caplog.set_level(logging.DEBUG)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            for key in made.keys:
                client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})
            client.post(
                "/v1/webhooks",
                headers={"Authorization": f"Bearer {made.keys[1]}"},
                json={"url": "http://127.0.0.1:9/x", "secret": made.webhook_secret},
            )
            signed_in = client.post("/portal/login", data={"api_key": made.keys[0]})
            assert signed_in.status_code == 303 and "kenri_session" in signed_in.cookies
            client.get("/portal/works")
    finally:
        server.should_exit = True
        thread.join(10)
    access = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert len(access) >= len(made.keys) + 3
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for name, needle in [*made.needles().items(), ("webhook secret", made.webhook_secret)]:
        assert needle not in logged, f"{name} was logged"


def test_no_endpoint_takes_a_secret_in_its_url(secured: Secured) -> None:
    spec = secured.world.client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                name = parameter["name"].lower()
                assert not re.search(r"key|token|secret|password", name), (method, path, name)
    login = secured.world.client.get("/portal/login").text
    assert re.search(r'<form method="post" action="/portal/login">', login)


def test_the_key_cache_holds_digests_not_keys() -> None:
    cache = KeyCache()
    key = f"kenri_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    cache.put(key, Caller(1, "x", "holder", 1, None, None))
    assert cache.get(key) is not None
    assert list(cache._entries) == [hashlib.sha256(key.encode()).hexdigest()]


# -- portal sessions ----------------------------------------------------------------------------
def test_the_session_cookie_is_httponly_strict_portal_only_and_secure_over_https(
    secured: Secured,
) -> None:
    api = secured.world.client.app
    for base, secure in (("https://testserver", True), ("http://testserver", False)):
        client = TestClient(api, base_url=base)
        response = client.post("/portal/login", data={"api_key": secured.keys[1]},
                               follow_redirects=False)  # fmt: skip
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("kenri_session=")
        flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
        assert "httponly" in flags and flags["samesite"].strip().lower() == "samesite=strict"
        assert flags["path"].strip() == "Path=/portal"
        assert ("secure" in flags) is secure
        assert "max-age" not in flags and "expires" not in flags  # a browser-session cookie


def test_revoking_the_key_ends_its_portal_sessions(secured: Secured) -> None:
    world = secured.world
    issued = world.ok("holderA", "POST", "/v1/keys", json={"label": "portal"})
    client = TestClient(world.client.app)
    _sign_in(client, issued["key"])
    assert client.get("/portal/works", follow_redirects=False).status_code == 200
    world.ok("holderA", "DELETE", f"/v1/keys/{issued['prefix']}")
    gone = client.get("/portal/works", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/portal/login")


def test_a_portal_session_expires(secured: Secured) -> None:
    client = TestClient(secured.world.client.app)
    token = _sign_in(client, secured.keys[1])
    assert client.get("/portal/works", follow_redirects=False).status_code == 200
    with secured.app.transaction() as tx:
        digest = hashlib.sha256(token.encode()).hexdigest()
        row = tx.session.scalar(select(PortalSession).where(PortalSession.token_sha256 == digest))
        assert abs(row.expires_at - row.created_at - timedelta(hours=12)) < timedelta(minutes=1)
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get("/portal/works", follow_redirects=False).status_code == 303
    forged = TestClient(secured.world.client.app, cookies={"kenri_session": "x" * 5000})
    assert forged.get("/portal/works", follow_redirects=False).status_code == 303


def test_sign_in_redirects_only_inside_the_portal(secured: Secured) -> None:
    client = TestClient(secured.world.client.app)
    for target in ("https://evil.example/", "//evil.example/portal/", "/portal//evil.example",
                   "/v1/me", "javascript:alert(1)", "/other"):  # fmt: skip
        response = client.post("/portal/login", data={"api_key": secured.keys[1], "next": target},
                               follow_redirects=False)  # fmt: skip
        assert response.headers["location"] == "/portal/", target
        lang = client.get("/portal/lang/ja", params={"next": target}, follow_redirects=False)
        assert lang.headers["location"] == "/portal/", target
    kept = client.post("/portal/login", data={"api_key": secured.keys[1], "next": "/portal/grants"},
                       follow_redirects=False)  # fmt: skip
    assert kept.headers["location"] == "/portal/grants"


def test_portal_pages_escape_what_tenants_write(secured: Secured) -> None:
    script = "<script>alert('kenri')</script>"
    secured.world.ok("holderA", "POST", "/v1/works", json={"title": script})
    client = TestClient(secured.world.client.app)
    _sign_in(client, secured.keys[1])
    page = client.get("/portal/works").text
    assert script not in page and "&lt;script&gt;" in page


# -- tenant walls: guessing ids ------------------------------------------------------------------
def test_guessing_ids_finds_nothing_of_another_tenant(secured: Secured) -> None:
    world = secured.world
    mine = {r["id"] for r in world.ok("holderB", "GET", "/v1/references")}
    theirs = {r["id"] for r in world.ok("holderA", "GET", "/v1/references")}
    assert mine and theirs
    for reference_id in range(1, max(mine | theirs) + 5):
        response = world.call("holderB", "GET", f"/v1/references/{reference_id}/media")
        if reference_id in mine:
            assert response.status_code == 200
        else:  # another holder's reference reads exactly like one that does not exist
            assert response.status_code == 404, reference_id
            assert response.json() == {"detail": f"no reference {reference_id}"}
    own_works = {w["id"] for w in world.ok("holderB", "GET", "/v1/works")}
    for path in ("generations", "jobs", "claims", "grants", "works", "characters"):
        who = "holderB" if path in ("works", "characters") else "licenseeB"
        for object_id in range(1, 30):
            if path == "works" and object_id in own_works:
                continue
            response = world.call(who, "GET", f"/v1/{path}/{object_id}")
            assert response.status_code in (403, 404), (who, path, object_id, response.text)


# -- input that names paths ----------------------------------------------------------------------
def test_upload_file_names_never_choose_where_a_file_goes(secured: Secured) -> None:
    from PIL import Image

    world = secured.world
    scratch = Path(tempfile.gettempdir())
    names = ["../../escape.png", "..", ".", "/etc/escape.png", "..\\..\\escape.png",
             "escape\x00.png", "../" * 50]  # fmt: skip
    before = {p.name for p in scratch.iterdir()}
    for number, filename in enumerate(names):
        picture = png(Image.effect_noise((64 + number, 64), 40).convert("RGB"))
        response = world.call("holderA", "POST", "/v1/references",
                              files={"file": (filename, picture, "image/png")},
                              data={"work_id": str(world.ids["work"])})  # fmt: skip
        assert response.status_code == 201, (filename, response.text)
        with secured.app.transaction() as tx:
            reference = tx.session.get(Reference, response.json()["id"])
            stored = tx.registry.media_path(reference)
        # The stored name is the content's SHA-256, under the media folder, whatever was sent.
        assert stored.is_relative_to(secured.app.settings.media_dir)
        assert stored.stem == reference.sha256 == hashlib.sha256(picture).hexdigest()
    home = secured.app.settings.home.parent
    assert not [p for p in home.rglob("*escape*")]
    assert not [name for name in {p.name for p in scratch.iterdir()} - before if "escape" in name]


def _tar(members: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                archive.addfile(info, io.BytesIO(member[1]))
    return buffer.getvalue()


def test_dataset_members_that_escape_or_link_are_refused(tmp_path: Path) -> None:
    from kenri.demo.artwork import kumo_chan

    picture = png(kumo_chan())
    symlink = tarfile.TarInfo("link.png")
    symlink.type, symlink.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hardlink = tarfile.TarInfo("hard.png")
    hardlink.type, hardlink.linkname = tarfile.LNKTYPE, "ok.png"
    device = tarfile.TarInfo("dev.png")
    device.type = tarfile.CHRTYPE
    shard = tmp_path / "00000.tar"
    shard.write_bytes(_tar([("/abs/escape.png", picture), ("sub/../../up.png", picture),
                            ("win\\..\\x.png", picture), symlink, hardlink, device,
                            ("ok.png", picture)]))  # fmt: skip
    items = {item.key: item for item in read_items(Shard("00000", "tar", shard))}
    for key in ("/abs/escape", "sub/../../up", "win\\..\\x"):
        assert items[key].error.startswith("unsafe member path") and not items[key].members
    for key in ("link", "hard", "dev"):
        assert items[key].error.startswith("not a regular file") and not items[key].members
    assert items["ok"].error is None and items["ok"].media == ("png", picture)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000.tar"]  # nothing extracted


# -- webhooks ------------------------------------------------------------------------------------
def test_a_stale_future_or_malformed_webhook_stamp_is_rejected() -> None:
    body, secret = b'{"event":"claim.accept"}', "s" * 32
    now = str(int(time.time()))
    assert verify_signature(secret, now, body, sign(secret, now, body))
    for stamp in (str(int(time.time()) - 301), str(int(time.time()) + 301), "soon", ""):
        assert not verify_signature(secret, stamp, body, sign(secret, stamp, body)), stamp
    # The stamp is signed too: a fresh stamp on an old signature does not verify.
    old = str(int(time.time()) - 600)
    assert not verify_signature(secret, now, body, sign(secret, old, body))


def test_webhook_urls_are_http_or_https_and_secrets_at_least_16_characters(
    secured: Secured,
) -> None:
    world = secured.world
    for url in ("file:///etc/passwd", "gopher://127.0.0.1/", "javascript:alert(1)", "http://",
                "ftp://example.org/x", "http://example.org/" + "x" * 1000):  # fmt: skip
        response = world.call("holderA", "POST", "/v1/webhooks",
                              json={"url": url, "secret": "x" * 32})  # fmt: skip
        assert response.status_code in (400, 422), (url, response.text)
    short = world.call("holderA", "POST", "/v1/webhooks",
                       json={"url": "https://example.org/hook", "secret": "x" * 15})  # fmt: skip
    assert short.status_code == 422


# -- exports from elsewhere ------------------------------------------------------------------------
def test_a_restore_writes_media_only_into_the_media_folder(app, tmp_path: Path) -> None:
    """An export someone hands you cannot plant files (a trust anchor, a signing key) beside the
    media folder: every file it names stays under its own tables/ or media/."""
    from kenri.errors import InvalidInput
    from kenri.maintenance.backup import restore
    from kenri.registry.media import sha256_file

    with app.transaction() as tx:
        tx.registry.add_holder("Studio", "JP")
    backup = tmp_path / "backup"
    export(app.db.engine, app.settings.media_dir, backup)
    (backup / "media").mkdir(exist_ok=True)
    planted = backup / "provenance" / "test-ca" / "root_ca.pem"
    planted.parent.mkdir(parents=True)
    planted.write_text("-----BEGIN CERTIFICATE-----\nnot yours\n-----END CERTIFICATE-----\n")
    manifest = json.loads((backup / "manifest.json").read_text())
    for name in ("media/../provenance/test-ca/root_ca.pem", "/etc/hostname", "../x"):
        files = {**manifest["files"], name: sha256_file(planted)}
        (backup / "manifest.json").write_text(json.dumps({**manifest, "files": files}))
        home = tmp_path / "restored"
        with pytest.raises(InvalidInput, match="outside"):
            restore(backup, f"sqlite:///{tmp_path / 'restored.sqlite'}", home / "media")
        assert not (home / "provenance").exists()

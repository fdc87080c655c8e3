"""Requests the service refuses, each with a clear 4xx: oversized uploads, wrong content types,
bad ids, expired keys."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from kenri.service.app import create_app
from kenri.service.auth import Caller, KeyCache
from kenri.service.tenants import ApiKey
from tests.service_world import build_world, png


@pytest.fixture
def world(app):
    world = build_world(app)
    yield world
    world.close()


def test_an_upload_over_the_limit_is_413(world, app) -> None:
    small = TestClient(create_app(app, deliver_webhooks=False, max_upload_bytes=2_000))
    picture = png(Image.effect_noise((128, 128), 60).convert("RGB"))
    assert len(picture) > 2_000
    response = small.post(
        "/v1/screen/image", headers=world.h("licenseeA"), files={"file": ("x.png", picture)}
    )
    assert response.status_code == 413 and "larger than 2000 bytes" in response.json()["detail"]
    ok = world.call("licenseeA", "POST", "/v1/screen/image", files={"file": ("x.png", picture)})
    assert ok.status_code == 200 and ok.json()["decision"] == "allow"


def test_wrong_content_types(world) -> None:
    # A form where JSON is expected, JSON where a file is expected: 422 naming the field.
    form = world.call("licenseeA", "POST", "/v1/screen/prompt", data={"prompt": "a cat"})
    assert form.status_code == 422
    no_file = world.call("licenseeA", "POST", "/v1/screen/image", json={"file": "a cat"})
    assert no_file.status_code == 422 and "file" in no_file.text
    # A file that is not an image: 415 with the decoder's reason; nothing is audited.
    before = world.ok("operator", "GET", "/v1/audit/verify")["entries"]
    text = world.call("licenseeA", "POST", "/v1/screen/image",
                      files={"file": ("notes.png", b"just some text", "image/png")})  # fmt: skip
    assert text.status_code == 415 and "not an image" in text.json()["detail"]
    assert world.ok("operator", "GET", "/v1/audit/verify")["entries"] == before
    # Not JSON at all.
    garbage = world.client.post(
        "/v1/screen/prompt",
        content=b"\xff\xfe{", headers={**world.h("licenseeA"), "Content-Type": "application/json"},
    )  # fmt: skip
    assert garbage.status_code == 400 and "parsing the body" in garbage.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/works/999999", 404),
        ("/v1/works/abc", 422),
        ("/v1/works/-1", 422),
        ("/v1/works/99999999999999999999", 422),
        ("/v1/claims/0", 422),
        ("/v1/jobs/%00", 422),
    ],
)
def test_bad_ids(world, path: str, status: int) -> None:
    who = "licenseeA" if path.startswith("/v1/jobs") else "holderA"
    response = world.call(who, "GET", path)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_an_expired_key_is_refused_and_says_so(world, app) -> None:
    issued = world.ok("licenseeA", "POST", "/v1/keys",
                      json={"label": "short-lived", "expires_in_days": 1})  # fmt: skip
    assert issued["expires_at"]
    headers = {"Authorization": f"Bearer {issued['key']}"}
    assert world.client.get("/v1/me", headers=headers).status_code == 200
    with app.transaction() as tx:  # a day later
        row = tx.session.query(ApiKey).filter_by(prefix=issued["prefix"]).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    world.client.app.state.key_cache.clear()
    response = world.client.get("/v1/me", headers=headers)
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"
    listed = {k["prefix"]: k for k in world.ok("licenseeA", "GET", "/v1/keys")}
    assert listed[issued["prefix"]]["expires_at"]
    bad = world.call("licenseeA", "POST", "/v1/keys", json={"expires_in_days": 0})
    assert bad.status_code == 422


def test_the_key_cache_forgets_a_key_when_it_expires() -> None:
    cache = KeyCache(ttl_s=60)
    who = Caller(1, "x", "licensee", None, 1, "x")
    cache.put("kenri_a_b", who, datetime.now(UTC) + timedelta(seconds=0.2))
    assert cache.get("kenri_a_b") == who
    time.sleep(0.3)
    assert cache.get("kenri_a_b") is None


def test_request_bodies_past_their_limit_are_413_before_they_are_read(world, app, monkeypatch):
    monkeypatch.setenv("KENRI_MAX_JSON_MB", "0.01")  # 10,485 bytes
    monkeypatch.setenv("KENRI_MAX_REQUEST_MB", "0.05")
    client = TestClient(create_app(app, deliver_webhooks=False, max_upload_bytes=1_000))
    headers = world.h("licenseeA") | {"content-type": "application/json"}
    big = b'{"prompt": "' + b"a" * 20_000 + b'"}'
    announced = client.post("/v1/screen/prompt", headers=headers, content=big)
    assert announced.status_code == 413, announced.text
    assert "larger than 10485 bytes" in announced.json()["detail"]

    def chunks():  # no Content-Length: counted while it streams, cut off at the limit
        for _ in range(40):
            yield b" " * 1_000

    streamed = client.post("/v1/screen/prompt", headers=headers, content=chunks())
    assert streamed.status_code == 413, streamed.text
    picture = png(Image.effect_noise((256, 256), 60).convert("RGB"))
    form = client.post("/v1/screen/image", headers=world.h("licenseeA"),
                       files={"file": ("x.png", picture * 2)})  # fmt: skip
    assert form.status_code == 413 and "request body larger than 52428" in form.text
    fine = client.post("/v1/screen/prompt", headers=headers, content=b'{"prompt": "a cat"}')
    assert fine.status_code == 200, fine.text


def test_a_deep_or_oversized_json_value_is_a_4xx_that_does_not_echo_it(world) -> None:
    deep = b'{"prompt": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    headers = world.h("licenseeA") | {"content-type": "application/json"}
    response = world.client.post("/v1/screen/prompt", content=deep, headers=headers)
    assert response.status_code == 400
    long = world.call("licenseeA", "POST", "/v1/screen/prompt", json={"prompt": "x" * 200_000})
    assert long.status_code == 422 and "at most" in long.text
    assert len(long.content) < 1_000  # the 200,000 characters are not sent back

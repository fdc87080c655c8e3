"""Every endpoint against every role: a cross-tenant read or write anywhere fails this test."""

from __future__ import annotations

import pytest

from tests.service_world import build_world, png, shard

CALLERS = ["anonymous", "operator", "holderA", "holderB", "licenseeA", "licenseeB"]
ALL = {"operator", "holderA", "holderB", "licenseeA", "licenseeB"}
HOLDERS, LICENSEES = {"holderA", "holderB"}, {"licenseeA", "licenseeB"}


def _reads(ids: dict[str, int]) -> list[tuple[str, str, set[str], str | None]]:
    """(method, path, who may, text only holderA/licenseeA/operator may ever see)."""
    return [
        ("GET", "/v1/me", ALL, None),
        ("GET", "/v1/tenants", {"operator"}, None),
        ("GET", "/v1/keys", ALL, None),
        ("GET", "/v1/audit", ALL, "Hoshi Saga"),
        ("GET", "/v1/audit/verify", {"operator"}, None),
        ("GET", "/v1/works", HOLDERS, "Hoshi Saga"),
        ("GET", f"/v1/works/{ids['work']}", {"holderA"}, None),
        ("GET", f"/v1/characters/{ids['character']}", {"holderA"}, None),
        ("GET", "/v1/references", HOLDERS, "hoshimaru.png"),
        ("GET", f"/v1/references/{ids['reference']}/media", {"holderA"}, None),
        ("GET", "/v1/licensees", ALL, None),
        ("GET", "/v1/grants", HOLDERS | LICENSEES, "Hoshi Saga"),
        ("GET", f"/v1/grants/{ids['grant']}", {"holderA", "licenseeA"}, None),
        ("GET", "/v1/generations", LICENSEES, "Hoshimaru waving"),
        ("GET", f"/v1/generations/{ids['generation']}", {"licenseeA"}, None),
        ("GET", "/v1/claims", ALL, "Which grant covered"),
        ("GET", f"/v1/claims/{ids['claim']}", {"holderA", "licenseeA", "operator"}, None),
        ("GET", "/v1/webhooks", ALL, "127.0.0.1:9"),
        ("GET", "/v1/jobs", LICENSEES, '"kind":"dataset"'),
        ("GET", f"/v1/jobs/{ids['job']}", {"licenseeA"}, None),
    ]


def _writes(ids: dict[str, int], key_prefix: str) -> list[tuple[str, str, dict, set[str]]]:
    """(method, path, request arguments, who may); run in this order, owners last."""
    image = {"file": ("x.png", png_bytes(), "image/png")}
    return [
        ("POST", "/v1/tenants", {"json": {"name": "new", "role": "holder"}}, {"operator"}),
        ("POST", "/v1/keys", {"json": {}}, ALL),
        ("POST", "/v1/works", {"json": {"title": "Another"}}, HOLDERS),
        ("POST", f"/v1/works/{ids['work']}/characters", {"json": {"name": "Side"}}, {"holderA"}),
        ("POST", f"/v1/characters/{ids['character']}/names",
         {"json": {"names": [{"text": "Hoshi"}]}}, {"holderA"}),
        ("POST", "/v1/references", {"files": image, "data": {"work_id": str(ids["work"])}},
         {"holderA"}),
        ("POST", "/v1/grants",
         {"json": {"licensee": "licenseeB", "work_id": ids["work"], "purposes": ["style"]}},
         {"holderA"}),
        ("POST", "/v1/screen/prompt", {"json": {"prompt": "Hoshimaru on a beach"}}, LICENSEES),
        ("POST", "/v1/screen/prompts", {"json": {"prompts": ["Hoshimaru", "a cat"]}}, LICENSEES),
        ("POST", "/v1/screen/image", {"files": image}, LICENSEES),
        ("POST", "/v1/generations", {"json": {"decision": "allow", "prompt": "x"}}, LICENSEES),
        ("POST", "/v1/claims",
         {"json": {"kind": "inquiry", "message": "?", "generation_id": ids["generation"]}},
         HOLDERS),
        ("POST", f"/v1/claims/{ids['claim']}/actions",
         {"json": {"action": "reply", "note": "grant 1"}}, {"licenseeA"}),
        ("POST", "/v1/webhooks",
         {"json": {"url": "http://127.0.0.1:9/x", "secret": "t" * 20}}, ALL),
        ("POST", "/v1/jobs/dataset",
         {"files": [("files", ("1.tar", shard({"k": (png_bytes(), "c")}), "x"))]}, LICENSEES),
        ("DELETE", f"/v1/jobs/{ids['job']}", {}, {"licenseeA"}),
        ("POST", "/v1/persons", {"json": {"name": "Someone Real"}}, HOLDERS),
        ("POST", f"/v1/persons/{ids['person']}/faces",
         {"files": {"file": ("face.png", face_png(), "image/png")},
          "data": {"verified_by": "desk"}}, {"holderA"}),
        ("POST", f"/v1/grants/{ids['grant']}/revoke", {"json": {"reason": "ended"}},
         {"holderA"}),
        ("DELETE", f"/v1/webhooks/{ids['webhook']}", {}, {"holderA"}),
        ("DELETE", f"/v1/references/{ids['reference']}", {}, {"holderA"}),
        ("DELETE", f"/v1/keys/{key_prefix}", {}, {"holderA"}),
    ]  # fmt: skip


def png_bytes() -> bytes:
    from kenri.demo.artwork import lantern_town

    return png(lantern_town())


def face_png() -> bytes:
    """NASA's public-domain astronaut portrait, from scikit-image's bundled data."""
    from PIL import Image
    from skimage.data import astronaut

    return png(Image.fromarray(astronaut()))


@pytest.fixture
def world(app):
    world = build_world(app)
    yield world
    world.close()


def test_every_endpoint_against_every_role(world) -> None:
    ids = world.ids
    prefix = world.ok("holderA", "GET", "/v1/keys")[0]["prefix"]
    covered = set()
    for method, path, allowed, secret in _reads(ids):
        covered.add((method, _template(path, ids)))
        for who in CALLERS:
            response = world.call(who, method, path)
            if who in allowed:
                assert response.status_code == 200, (who, method, path, response.text)
                owners = {"holderA", "licenseeA", "operator"}
                if secret and who not in owners:
                    assert secret not in response.text, (who, path, "leaked")
            else:
                expected = {401} if who == "anonymous" else {403, 404}
                assert response.status_code in expected, (who, method, path, response.text)
    for method, path, kwargs, allowed in _writes(ids, prefix):
        covered.add((method, _template(path, ids, prefix)))
        for who in [c for c in CALLERS if c not in allowed] + sorted(allowed):
            response = world.call(who, method, path, **kwargs)
            if who in allowed:
                assert response.status_code in (200, 201, 202), (who, path, response.text)
            else:
                expected = {401} if who == "anonymous" else {403, 404}
                assert response.status_code in expected, (who, method, path, response.text)
    # The table covers every operation the OpenAPI document lists (but the service's own).
    spec = world.client.get("/openapi.json").json()
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if path != "/healthz"
    }
    missing = documented - covered - {("POST", "/v1/jobs/video")}
    assert not missing, f"endpoints not in the matrix: {sorted(missing)}"


def test_video_job_is_for_licensees_only(world) -> None:
    for who in ["anonymous", "operator", "holderA"]:
        response = world.call(who, "POST", "/v1/jobs/video", files={"file": ("v.mp4", b"x")})
        assert response.status_code in ({401} if who == "anonymous" else {403})


def _template(path: str, ids: dict[str, int], prefix: str | None = None) -> str:
    names = {"work": "work_id", "character": "character_id", "reference": "reference_id",
             "grant": "grant_id", "generation": "generation_id", "claim": "claim_id",
             "webhook": "webhook_id", "job": "job_id", "person": "person_id"}  # fmt: skip
    parts = path.split("/")
    kinds = {"works": "work", "characters": "character", "references": "reference",
             "grants": "grant", "generations": "generation", "claims": "claim",
             "webhooks": "webhook", "jobs": "job", "persons": "person"}  # fmt: skip
    for i in range(1, len(parts)):
        kind = kinds.get(parts[i - 1])
        if kind and parts[i] == str(ids[kind]):
            parts[i] = "{" + names[kind] + "}"
        elif parts[i - 1] == "keys" and parts[i] == prefix:
            parts[i] = "{prefix}"
    return "/".join(parts)


def test_a_revoked_key_stops_working_at_once(world) -> None:
    issued = world.ok("licenseeA", "POST", "/v1/keys", json={"label": "rotation"})
    new = {"Authorization": f"Bearer {issued['key']}"}
    assert world.client.get("/v1/me", headers=new).status_code == 200  # now cached
    world.ok("licenseeA", "DELETE", f"/v1/keys/{issued['prefix']}")
    assert world.client.get("/v1/me", headers=new).status_code == 401
    forged = issued["key"][:-4] + "AAAA"
    assert (
        world.client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )

"""Claims and inquiries end to end over the REST API, with webhooks and the audit trail."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from PIL import Image

from kenri.claims.models import Claim
from kenri.claims.webhooks import deliver_pending, verify_signature
from kenri.demo.artwork import hoshimaru, lantern_town
from kenri.registry.models import utcnow
from tests.service_world import build_world, jpeg, png


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def world(app):
    world = build_world(app)
    yield world
    world.close()


def test_claim_on_a_file_found_anywhere_is_traced_disputed_escalated_and_upheld(world, app) -> None:
    # licenseeB generates Hoshimaru in a town scene without a grant and reports it.
    generated = lantern_town().convert("RGB").resize((640, 480))
    star = hoshimaru().convert("RGB")
    generated.paste(star.resize((star.width * 2 // 3, star.height * 2 // 3)), (40, 40))
    generation = world.ok(
        "licenseeB", "POST", "/v1/generations",
        json={"decision": "allow", "prompt": "a round orange star",
              "media_base64": b64(png(generated))},
    )  # fmt: skip
    # The holder finds a re-encoded, resized copy on the web and files a claim with it.
    found = generated.convert("RGB").resize((generated.width * 3 // 4, generated.height * 3 // 4))
    claim = world.ok(
        "holderA", "POST", "/v1/claims",
        json={"message": "This is our character.", "media_base64": b64(jpeg(found, 60))},
    )  # fmt: skip
    assert claim["licensee"] == "licenseeB"
    assert claim["generation"] == generation["id"]
    assert claim["evidence"]["trace"]["route"] == "ledger"  # reported without kenri marks
    assert claim["evidence"]["trace"]["hits"][0]["strength"] == "match"
    evidence = claim["evidence"]["matches"][0]
    assert evidence["work"] == "Hoshi Saga" and evidence["reference_id"] == world.ids["reference"]
    assert claim["work"] == "Hoshi Saga" and claim["character"] == "Hoshimaru"
    assert claim["waiting_on"] == "licensee" and not claim["overdue"]

    # The licensee disputes; only the holder may escalate; the operator upholds.
    cid = claim["id"]
    bad = world.call("holderA", "POST", f"/v1/claims/{cid}/actions", json={"action": "dispute"})
    assert bad.status_code == 403
    no_reason = world.call("licenseeB", "POST", f"/v1/claims/{cid}/actions",
                           json={"action": "dispute"})  # fmt: skip
    assert no_reason.status_code == 400
    world.ok("licenseeB", "POST", f"/v1/claims/{cid}/actions",
             json={"action": "dispute", "note": "Made from a text prompt."})  # fmt: skip
    world.ok("holderA", "POST", f"/v1/claims/{cid}/actions",
             json={"action": "escalate", "note": "The output copies our artwork."})  # fmt: skip
    done = world.ok("operator", "POST", f"/v1/claims/{cid}/actions", json={"action": "uphold"})
    assert done["state"] == "upheld" and done["resolution"]["actions"] == ["takedown"]
    assert [(e["actor"], e["action"], e["to"]) for e in done["events"]] == [
        ("holder:holderA", "file", "open"),
        ("licensee:licenseeB", "dispute", "disputed"),
        ("holder:holderA", "escalate", "escalated"),
        ("operator:Ops", "uphold", "upheld"),
    ]
    taken = world.ok("licenseeB", "GET", f"/v1/generations/{generation['id']}")
    assert taken["taken_down_at"] is not None
    again = world.call("operator", "POST", f"/v1/claims/{cid}/actions", json={"action": "reject"})
    assert again.status_code == 400  # a decided claim stays decided
    audit = world.ok("operator", "GET", "/v1/audit/verify")
    assert audit["ok"] and audit["entries"] > 10
    actions = [e["action"] for e in world.ok("operator", "GET", "/v1/audit?limit=1000")]
    for action in ("claim.file", "claim.dispute", "claim.escalate", "claim.uphold"):
        assert action in actions


def test_accepting_blocks_the_pattern_and_adds_the_reference(world) -> None:
    found = lantern_town()  # not yet registered: the claim adds it as a reference
    claim = world.ok(
        "holderA", "POST", "/v1/claims",
        json={"message": "Our town, from chapter 3.", "licensee": "licenseeA",
              "work_id": world.ids["work"], "media_base64": b64(png(found))},
    )  # fmt: skip
    before = world.ok("licenseeB", "POST", "/v1/screen/prompt",
                      json={"prompt": "Lantern Alley at dusk"})  # fmt: skip
    assert before["decision"] == "allow"
    accepted = world.ok(
        "licenseeA", "POST", f"/v1/claims/{claim['id']}/actions",
        json={"action": "accept", "actions": ["block_pattern", "add_reference"],
              "pattern": "Lantern Alley"},
    )  # fmt: skip
    assert accepted["state"] == "accepted"
    assert accepted["resolution"]["actions"] == ["block_pattern", "add_reference"]
    after = world.ok("licenseeB", "POST", "/v1/screen/prompt",
                     json={"prompt": "Lantern Alley at dusk"})  # fmt: skip
    assert after["decision"] in ("block", "review")
    assert after["matches"][0]["work"] == "Hoshi Saga"
    image = world.client.post(
        "/v1/screen/image", headers=world.h("licenseeB"),
        files={"file": ("t.jpg", jpeg(found.convert("RGB").resize((300, 300)), 80))},
    ).json()  # fmt: skip
    assert image["decision"] == "block"
    assert image["matches"][0]["reference_id"] == accepted["resolution"]["reference"]


def test_inquiry_reply_follow_up_close_and_overdue(world, app) -> None:
    cid = world.ids["claim"]
    assert world.ok("licenseeA", "GET", "/v1/claims?overdue=true") == []
    with app.transaction() as tx:  # the deadline passes
        tx.session.get(Claim, cid).due_at = utcnow() - timedelta(hours=1)
    overdue = world.ok("licenseeA", "GET", "/v1/claims?overdue=true")
    assert [c["id"] for c in overdue] == [cid] and overdue[0]["overdue"]
    world.ok("licenseeA", "POST", f"/v1/claims/{cid}/actions",
             json={"action": "reply", "note": "Grant 1, generation purpose."})  # fmt: skip
    followed = world.ok("holderA", "POST", f"/v1/claims/{cid}/actions",
                        json={"action": "follow_up", "note": "Which territory?"})  # fmt: skip
    assert followed["state"] == "open" and not followed["overdue"]  # a new deadline
    wrong = world.call("licenseeA", "POST", f"/v1/claims/{cid}/actions",
                       json={"action": "accept", "actions": ["takedown"]})  # fmt: skip
    assert wrong.status_code == 400  # accept is for claims, not inquiries
    closed = world.ok("holderA", "POST", f"/v1/claims/{cid}/actions", json={"action": "close"})
    assert closed["state"] == "closed"


def test_untraceable_claim_needs_an_addressee(world) -> None:
    blank = Image.new("RGB", (64, 64), (10, 200, 30))
    response = world.call("holderA", "POST", "/v1/claims",
                          json={"message": "?", "media_base64": b64(png(blank))})  # fmt: skip
    assert response.status_code == 400 and "could not be traced" in response.json()["detail"]
    garbage = world.call("holderA", "POST", "/v1/claims",
                         json={"message": "?", "media_base64": "not base64!"})  # fmt: skip
    assert garbage.status_code == 400


def test_webhooks_are_signed_and_survive_a_receiver_outage(world, app) -> None:
    received: list[tuple[dict, bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    with socket.socket() as probe:  # a free port, with nobody listening on it yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/kenri"
    world.ok("licenseeA", "POST", "/v1/webhooks", json={"url": url, "secret": "x" * 24})
    world.ok("licenseeA", "POST", f"/v1/claims/{world.ids['claim']}/actions",
             json={"action": "reply", "note": "Grant 1."})  # fmt: skip
    with app.transaction() as tx:  # the receiver is down: the delivery waits in the outbox
        assert deliver_pending(tx.session) == (0, 2)  # holderA's dead hook and this one
    server = HTTPServer(("127.0.0.1", port), Receiver)  # the receiver comes back
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    time.sleep(0.1)
    with app.transaction() as tx:
        delivered, _ = deliver_pending(tx.session)
    thread.join(5)
    server.server_close()
    assert delivered == 1 and len(received) == 1
    headers, body = received[0]
    assert verify_signature("x" * 24, headers["X-Kenri-Timestamp"], body,
                            headers["X-Kenri-Signature"])  # fmt: skip
    assert not verify_signature("y" * 24, headers["X-Kenri-Timestamp"], body,
                                headers["X-Kenri-Signature"])  # fmt: skip
    tampered = body.replace(b"answered", b"accepted")
    assert not verify_signature("x" * 24, headers["X-Kenri-Timestamp"], tampered,
                                headers["X-Kenri-Signature"])  # fmt: skip
    event = json.loads(body)
    assert event["event"] == "inquiry.reply" and event["data"]["state"] == "answered"


def test_bad_generation_reports_are_refused_clearly(world) -> None:
    huge = world.call("licenseeA", "POST", "/v1/generations",
                      json={"decision": "allow", "details": {"x": "y" * 30_000}})  # fmt: skip
    assert huge.status_code == 400 and "details longer" in huge.json()["detail"]
    junk = world.call("licenseeA", "POST", "/v1/generations",
                      json={"decision": "allow", "media_base64": b64(b"not media")})  # fmt: skip
    assert junk.status_code == 415 and "not" in junk.json()["detail"]
    assert len(world.ok("licenseeA", "GET", "/v1/generations")) == 1  # nothing half-written

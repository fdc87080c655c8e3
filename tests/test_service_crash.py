"""kill -9 the server while claim transitions stream in, restart it: every transition is whole
(state, event, audit entry and webhook delivery together) or absent, and none that was answered
is lost."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
from sqlalchemy import func, select

from kenri.audit.log import AuditEntry, verify
from kenri.claims.models import Claim, ClaimEvent, Delivery
from tests.service_world import build_world

ROUNDS = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(home, db_url: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, KENRI_HOME=str(home), KENRI_DB=db_url)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "kenri.service.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("the server did not start")


def _next_transition(client: httpx.Client, world, claim_id: int) -> httpx.Response:
    """Reply to an open inquiry, or follow an answered one up: it can go on for ever."""
    state = client.get(f"/v1/claims/{claim_id}", headers=world.h("holderA"))
    state.raise_for_status()
    who, action = (
        ("licenseeA", "reply") if state.json()["state"] == "open" else ("holderA", "follow_up")
    )
    return client.post(f"/v1/claims/{claim_id}/actions", headers=world.h(who),
                       json={"action": action, "note": "x" * 2000})  # fmt: skip


def _stream(world, port: int, claim_id: int, stop: threading.Event, acknowledged: list) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        while not stop.is_set():
            try:
                response = _next_transition(client, world, claim_id)
            except httpx.TransportError:
                return  # the server died mid-request: what became of it is for the check
            except httpx.HTTPStatusError as exc:
                acknowledged.append(f"error {exc.response.status_code}")
                return
            if response.status_code != 200:
                acknowledged.append(f"error {response.status_code}: {response.text[:200]}")
                return
            acknowledged.append(response.json()["state"])


def _consistent(app, claim_id: int) -> tuple[int, str]:
    """(transitions recorded, state), after checking that every record of them agrees."""
    with app.transaction() as tx:
        claim = tx.session.get(Claim, claim_id)
        events = tx.session.scalars(
            select(ClaimEvent).where(ClaimEvent.claim_id == claim_id).order_by(ClaimEvent.id)
        ).all()
        audited = tx.session.scalar(
            select(func.count(AuditEntry.seq)).where(AuditEntry.subject == f"claim:{claim_id}")
        )
        deliveries = tx.session.scalar(select(func.count(Delivery.id)))
        assert claim.state == events[-1].to_state
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_state == before.to_state  # no transition lost in between
        assert audited == len(events)  # filing + each transition, each audited once
        assert deliveries == len(events) - 1  # the webhook subscribed after the filing
        assert verify(tx.session).ok
        return len(events), claim.state


def test_kill_during_claim_transitions_loses_nothing(app, home, db_url) -> None:
    world = build_world(app)
    world.close()
    claim_id = world.ids["claim"]
    recorded, _ = _consistent(app, claim_id)
    answered = 0
    rng = random.Random(7)
    for _ in range(ROUNDS):
        port = _free_port()
        server = _serve(home, db_url, port)
        stop = threading.Event()
        acknowledged: list[str] = []

        client = threading.Thread(target=_stream, args=(world, port, claim_id, stop, acknowledged))
        client.start()
        deadline = time.monotonic() + 60  # a slow machine's first requests take a while
        while not acknowledged and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.6))  # then kill at a random moment among transitions
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        stop.set()
        client.join(20)
        assert not [a for a in acknowledged if a.startswith("error")], acknowledged
        now, _ = _consistent(app, claim_id)
        # Every answered transition is there; at most one more (committed, never answered).
        assert recorded + len(acknowledged) <= now <= recorded + len(acknowledged) + 1
        answered += len(acknowledged)
        recorded = now
    assert answered > 0  # the kills did land among transitions
    # A restarted server goes on from the recorded state.
    port = _free_port()
    server = _serve(home, db_url, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert _next_transition(client, world, claim_id).status_code == 200
    finally:
        server.terminate()
        server.wait(10)
    assert _consistent(app, claim_id)[0] == recorded + 1

"""A small world of tenants for the service tests: two holders, two licensees, an operator."""

from __future__ import annotations

import io
import tarfile
import time
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

import kenri
from kenri.demo.artwork import hoshimaru, kumo_chan
from kenri.service.app import create_app
from kenri.service.tenants import Tenants


def png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(image, quality: int = 70) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def shard(items: dict[str, tuple[bytes, str]]) -> bytes:
    """A webdataset tar: key -> (png bytes, caption)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for key, (image, caption) in items.items():
            for ext, data in (("png", image), ("txt", caption.encode())):
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass
class World:
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def close(self) -> None:
        """Let a running job finish (its connections must close before the schema is dropped)."""
        self.client.app.state.jobs.shutdown(wait=True)

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"} if who in self.keys else {}

    def call(self, who: str, method: str, path: str, **kwargs):
        return self.client.request(method, path, headers=self.h(who), **kwargs)

    def ok(self, who: str, method: str, path: str, **kwargs) -> dict | list:
        response = self.call(who, method, path, **kwargs)
        assert response.status_code < 400, (method, path, response.status_code, response.text)
        return response.json()


def build_world(app: kenri.Kenri) -> World:
    client = TestClient(create_app(app, deliver_webhooks=False))
    world = World(client)
    with app.transaction("test") as tx:
        tenants = Tenants(tx.registry, "test")
        world.keys["operator"] = tenants.issue_key(tenants.create("Ops", "operator"))[1]
    for name, role in [("holderA", "holder"), ("holderB", "holder"),
                       ("licenseeA", "licensee"), ("licenseeB", "licensee")]:  # fmt: skip
        made = world.ok("operator", "POST", "/v1/tenants", json={"name": name, "role": role})
        world.keys[name] = made["key"]
    work = world.ok("holderA", "POST", "/v1/works", json={"title": "Hoshi Saga"})
    world.ids["work"] = work["id"]
    character = world.ok(
        "holderA", "POST", f"/v1/works/{work['id']}/characters",
        json={"name": "Hoshimaru", "names": [{"text": "ほしまる"}],
              "descriptions": ["a round orange star creature with a smiling face"]},
    )  # fmt: skip
    world.ids["character"] = character["id"]
    reference = world.ok(
        "holderA", "POST", "/v1/references",
        files={"file": ("hoshimaru.png", png(hoshimaru()), "image/png")},
        data={"work_id": str(work["id"]), "character_id": str(character["id"])},
    )  # fmt: skip
    world.ids["reference"] = reference["id"]
    world.ids["work_b"] = world.ok("holderB", "POST", "/v1/works", json={"title": "Kumo Tales"})[
        "id"
    ]
    world.ok(
        "holderB", "POST", "/v1/references",
        files={"file": ("kumo.png", png(kumo_chan()), "image/png")},
        data={"work_id": str(world.ids["work_b"])},
    )  # fmt: skip
    grant = world.ok(
        "holderA", "POST", "/v1/grants",
        json={"licensee": "licenseeA", "work_id": work["id"], "purposes": ["generation"]},
    )  # fmt: skip
    world.ids["grant"] = grant["id"]
    generation = world.ok(
        "licenseeA", "POST", "/v1/generations",
        json={"decision": "allow", "prompt": "Hoshimaru waving", "grants": [grant["id"]],
              "media_base64": _b64(png(hoshimaru()))},
    )  # fmt: skip
    world.ids["generation"] = generation["id"]
    claim = world.ok(
        "holderA", "POST", "/v1/claims",
        json={"kind": "inquiry", "message": "Which grant covered this?",
              "generation_id": generation["id"]},
    )  # fmt: skip
    world.ids["claim"] = claim["id"]
    world.ids["webhook"] = world.ok(
        "holderA",
        "POST",
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "secret": "s" * 32},
    )["id"]
    job = world.ok(
        "licenseeA", "POST", "/v1/jobs/dataset",
        files=[("files", ("00000.tar", shard({"a": (png(kumo_chan()), "a cloud")}),
                          "application/x-tar"))],
    )  # fmt: skip
    world.ids["job"] = job["id"]
    world.ids["person"] = world.ok("holderA", "POST", "/v1/persons", json={"name": "Mika Hoshi"})[
        "id"
    ]
    return world


def wait_for_job(world: World, who: str, job_id: int, timeout: float = 180) -> dict:
    """Poll a job until it finishes (done, failed or cancelled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = world.ok(who, "GET", f"/v1/jobs/{job_id}")
        if job["state"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()

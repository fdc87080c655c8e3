"""schemathesis against the OpenAPI document: generated requests never get a 500.

Each operation is called with the key of a tenant whose role may use it (so the generated
bodies reach the handlers instead of stopping at 403), in a world with real rows in it.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

import kenri
from tests.service_world import build_world

ROLE_BY_PREFIX = [
    ("/v1/tenants", "operator"),
    ("/v1/audit", "operator"),
    ("/v1/screen", "licenseeA"),
    ("/v1/jobs", "licenseeA"),
    ("/v1/generations", "licenseeA"),
    ("/v1/claims/{claim_id}/actions", "licenseeA"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz")
    app = kenri.open(home, f"sqlite:///{home / 'registry.sqlite'}")
    world = build_world(app)
    yield world
    world.close()
    app.close()


def test_no_server_errors(world) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        _fuzz(world, operation)


def _fuzz(world, operation) -> None:
    path = operation.path
    who = next((role for prefix, role in ROLE_BY_PREFIX if path.startswith(prefix)), "holderA")

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case) -> None:
        response = case.call(headers=world.h(who))
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
        )

    call()

"""Fixtures: every data-layer test runs on SQLite and on the real PostgreSQL.

PostgreSQL comes from ``KENRI_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/
test``). Each test gets its own empty schema, dropped afterwards, so tests never see each
other's rows. Without a server the PostgreSQL cases are skipped, unless ``KENRI_REQUIRE_PG`` is
set (as CI does), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import kenri

PG_URL = os.environ.get("KENRI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return str(exc).splitlines()[0]


_PG_PROBLEM = _pg_available()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema."""
    if _PG_PROBLEM is not None:
        if os.environ.get("KENRI_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL required but unreachable at {PG_URL}: {_PG_PROBLEM}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {_PG_PROBLEM}")
    schema = f"kenri_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def app(home: Path, db_url: str) -> Iterator[kenri.Kenri]:
    k = kenri.open(home, db_url)
    try:
        yield k
    finally:
        k.close()


@pytest.fixture
def art(tmp_path: Path) -> dict[str, Path]:
    """The demo's code-drawn artwork (original, shippable)."""
    from kenri.demo.artwork import write_artwork

    return {p.stem: p for p in write_artwork(tmp_path / "art")}

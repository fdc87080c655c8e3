"""Migrations apply on empty SQLite and PostgreSQL, and match the models exactly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from kenri.db import alembic_config, make_engine, migrate
from kenri.registry.models import Base

TABLES = {
    "holders",
    "works",
    "characters",
    "names",
    "descriptions",
    "reference_media",
    "licensees",
    "grants",
    "alembic_version",
}


def test_upgrade_on_empty_database_matches_models(db_url):
    engine = make_engine(db_url)
    try:
        assert inspect(engine).get_table_names() == []
        migrate(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() is not None
        migrate(engine)  # again: a no-op
        command.downgrade(alembic_config(engine), "base")  # and all the way down
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()

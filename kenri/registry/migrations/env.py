"""Alembic environment: runs against the engine kenri hands over (see ``kenri.db.migrate``)."""

from alembic import context

# Every module that defines tables, so autogenerate sees the whole schema.
import kenri.audit.log
import kenri.claims.models
import kenri.portal.sessions
import kenri.provenance.generations
import kenri.screening.findings
import kenri.service.jobs
import kenri.service.tenants  # noqa: F401
from kenri.registry.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()

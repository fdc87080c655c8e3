"""likeness: persons as subjects, consent records, grants limited to end users, face rows by signal

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("works") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="work")
        )
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("users", sa.JSON(), nullable=True))
    op.create_index("ix_fingerprints_signal", "fingerprints", ["signal"])
    op.create_table(
        "likeness_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), sa.ForeignKey("works.id"), nullable=False),
        sa.Column(
            "reference_id", sa.Integer(), sa.ForeignKey("reference_media.id"), nullable=False
        ),
        sa.Column("verified_by", sa.String(length=300), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_likeness_consents_work_id", "likeness_consents", ["work_id"])
    op.create_index("ix_likeness_consents_reference_id", "likeness_consents", ["reference_id"])


def downgrade() -> None:
    op.drop_table("likeness_consents")
    op.drop_index("ix_fingerprints_signal", table_name="fingerprints")
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("users")
    with op.batch_alter_table("works") as batch:
        batch.drop_column("kind")

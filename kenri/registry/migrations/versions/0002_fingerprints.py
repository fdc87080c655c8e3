"""fingerprints of references

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 12:06:23.971115
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "fingerprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference_id", sa.Integer(), nullable=False),
        sa.Column("signal", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("frame_index", sa.Integer(), nullable=False),
        sa.Column("time_s", sa.Float(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reference_id"],
            ["reference_media.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference_id", "signal", "frame_index", name="uq_fingerprint_frame"),
    )
    with op.batch_alter_table("reference_media", schema=None) as batch_op:
        batch_op.create_index("ix_reference_media_removed_at", ["removed_at"], unique=False)
    with op.batch_alter_table("fingerprints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fingerprints_reference_id"), ["reference_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reference_media", schema=None) as batch_op:
        batch_op.drop_index("ix_reference_media_removed_at")

    with op.batch_alter_table("fingerprints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fingerprints_reference_id"))

    op.drop_table("fingerprints")

"""portal: sessions, findings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("key_id", sa.Integer(), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_index("ix_portal_sessions_tenant_id", "portal_sessions", ["tenant_id"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("licensee_id", sa.Integer(), sa.ForeignKey("licensees.id"), nullable=False),
        sa.Column("holder_id", sa.Integer(), sa.ForeignKey("holders.id"), nullable=False),
        sa.Column("work_id", sa.Integer(), sa.ForeignKey("works.id"), nullable=False),
        sa.Column("character_id", sa.Integer(), sa.ForeignKey("characters.id"), nullable=True),
        sa.Column("reference_id", sa.Integer(), sa.ForeignKey("reference_media.id"), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("media_sha256", sa.String(length=64), nullable=True),
        sa.Column("media_ext", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_findings_at", "findings", ["at"])
    op.create_index("ix_findings_licensee_id", "findings", ["licensee_id"])
    op.create_index("ix_findings_holder_id", "findings", ["holder_id"])


def downgrade() -> None:
    op.drop_table("findings")
    op.drop_table("portal_sessions")

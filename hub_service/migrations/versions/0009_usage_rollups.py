"""usage rollups: old usage rows summed per day, so the usage table stays small

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.DateTime(), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=True),
        sa.Column("server_name", sa.String(length=255), nullable=True),
        sa.Column("notebook_path", sa.String(length=1024), nullable=True),
        sa.Column("profile", sa.String(length=64), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("usage_rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_rollups_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_rollups_key_id"), ["key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_rollups_user"), ["user"], unique=False)


def downgrade() -> None:
    # the rows summed here are gone from usage: a downgrade loses their totals
    with op.batch_alter_table("usage_rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_rollups_user"))
        batch_op.drop_index(batch_op.f("ix_usage_rollups_key_id"))
        batch_op.drop_index(batch_op.f("ix_usage_rollups_day"))
    op.drop_table("usage_rollups")

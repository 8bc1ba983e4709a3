"""key change numbers, hub user identity on keys, refusal counts, budget holds

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.bulk_insert(counters, [{"name": "api_keys", "value": 0}])
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("hub_user_created", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("user_deleted_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), server_default=None)
        batch_op.create_index(batch_op.f("ix_api_keys_seq"), ["seq"], unique=False)

    op.create_table(
        "refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.DateTime(), nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("minute", "gateway", "user", "key_id", "model", "status", "reason"),
    )
    with op.batch_alter_table("refusals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refusals_minute"), ["minute"], unique=False)
        batch_op.create_index(batch_op.f("ix_refusals_user"), ["user"], unique=False)

    op.create_table(
        "budget_holds",
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("gateway", "user"),
    )


def downgrade() -> None:
    op.drop_table("budget_holds")
    with op.batch_alter_table("refusals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refusals_user"))
        batch_op.drop_index(batch_op.f("ix_refusals_minute"))
    op.drop_table("refusals")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_seq"))
        batch_op.drop_column("user_deleted_at")
        batch_op.drop_column("hub_user_created")
        batch_op.drop_column("seq")
    op.drop_table("counters")

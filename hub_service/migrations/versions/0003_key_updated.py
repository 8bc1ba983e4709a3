"""api_keys.updated: when a key last changed, so the gateway reads only the changes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 05:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated", sa.DateTime(), nullable=True))
    op.execute("UPDATE api_keys SET updated = COALESCE(revoked_at, created)")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("updated", existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index(batch_op.f("ix_api_keys_updated"), ["updated"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_updated"))
        batch_op.drop_column("updated")

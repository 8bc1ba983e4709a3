"""usage.gateway: which gateway process wrote a row, for rate limits shared by replicas

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gateway", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage", schema=None) as batch_op:
        batch_op.drop_column("gateway")

"""the hub groups that may use a profile

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # null, like an empty list, means everyone: existing profiles stay open to all
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("groups", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("groups")

"""the hub groups that may use a profile; kernels' keys expire with their server's

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
    # a kernel's key lives as long as its server's: renewals now move both, and the rows
    # of earlier versions, which kept the expiry they were issued with, catch up
    op.execute(
        "UPDATE api_keys SET expires_at = (SELECT server.expires_at FROM api_keys server "
        "WHERE server.id = api_keys.parent_id) WHERE parent_id IS NOT NULL AND EXISTS "
        "(SELECT 1 FROM api_keys server WHERE server.id = api_keys.parent_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("groups")

"""kernels' keys, and the kernel and notebook of each usage row

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("kernel_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("notebook_path", sa.String(length=1024), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_keys_parent_id"), ["parent_id"], unique=False)
    with op.batch_alter_table("usage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kernel_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("notebook_path", sa.String(length=1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage", schema=None) as batch_op:
        batch_op.drop_column("notebook_path")
        batch_op.drop_column("kernel_id")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_parent_id"))
        batch_op.drop_column("notebook_path")
        batch_op.drop_column("kernel_id")
        batch_op.drop_column("parent_id")

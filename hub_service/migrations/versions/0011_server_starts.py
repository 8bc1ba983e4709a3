"""servers as the hub saw them start, with the hash of each one's own token

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_starts",
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("server_name", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("profile", sa.String(length=64), nullable=True),
        sa.Column("user_created", sa.DateTime(), nullable=True),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user", "server_name"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("server_starts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_server_starts_at"), ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("server_starts")

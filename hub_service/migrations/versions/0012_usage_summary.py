"""usage summary: every usage row is summed into its day's rollup, which reports read

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 11:00:00
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows already here are not summed yet (the service sums them in batches). The
    # rollups already here are of rows deleted by retention, which deleted every row of
    # the days before the last rollup's: those days are pruned.
    op.add_column(
        "usage",
        sa.Column("summarized", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_usage_unsummarized",
        "usage",
        ["id"],
        unique=False,
        postgresql_where=sa.text("NOT summarized"),
        sqlite_where=sa.text("NOT summarized"),
    )
    # a user's or a team's rows in a range: the partial days of a report
    op.create_index("ix_usage_user_ts", "usage", ["user", "ts"], unique=False)
    op.drop_index("ix_usage_user", table_name="usage")
    if op.get_bind().dialect.name == "postgresql":
        # summing updates each row once: vacuum after 1 % of them, not the default 20 %,
        # so that the indexes' entries of the rows' earlier versions go soon
        op.execute(sa.text("ALTER TABLE usage SET (autovacuum_vacuum_scale_factor = 0.01)"))
    op.add_column("usage_rollups", sa.Column("last_at", sa.DateTime(), nullable=True))
    last = op.get_bind().scalar(sa.text("SELECT max(day) FROM usage_rollups"))
    if isinstance(last, str):  # SQLite answers text
        last = dt.datetime.fromisoformat(last)
    pruned = 0
    if last is not None:
        pruned = int((last + dt.timedelta(days=1)).replace(tzinfo=dt.timezone.utc).timestamp())
    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "usage_pruned_before", "value": pruned}])


def downgrade() -> None:
    # Earlier revisions count every rollup and every row: the rollups of the days not
    # pruned sum rows still here, and go.
    bind = op.get_bind()
    pruned = bind.scalar(sa.text("SELECT value FROM counters WHERE name = 'usage_pruned_before'"))
    since = dt.datetime.fromtimestamp(pruned or 0, dt.timezone.utc).replace(tzinfo=None)
    bind.execute(sa.text("DELETE FROM usage_rollups WHERE day >= :since"), {"since": since})
    op.execute(sa.text("DELETE FROM counters WHERE name = 'usage_pruned_before'"))
    op.drop_column("usage_rollups", "last_at")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("ALTER TABLE usage RESET (autovacuum_vacuum_scale_factor)"))
    op.create_index("ix_usage_user", "usage", ["user"], unique=False)
    op.drop_index("ix_usage_user_ts", table_name="usage")
    op.drop_index("ix_usage_unsummarized", table_name="usage")
    op.drop_column("usage", "summarized")

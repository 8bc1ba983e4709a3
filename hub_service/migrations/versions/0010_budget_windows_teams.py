"""budgets over several windows; teams (hub groups governed by their own admins)

A profile's or override's one budget (``budget_usd`` per ``budget_period``) becomes the
one entry of its list of budgets, ``[{"window": period, "usd": budget}]``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("profiles", "policy_overrides")


def _table(name: str, *columns: sa.Column) -> sa.TableClause:
    return sa.table(name, sa.column("id"), sa.column("budgets", sa.JSON()), *columns)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("budgets", sa.JSON(), nullable=True))
        t = _table(table, sa.column("budget_usd"), sa.column("budget_period"))
        rows = bind.execute(sa.select(t.c.id, t.c.budget_usd, t.c.budget_period)).all()
        for row_id, usd, period in rows:
            budgets = [] if usd is None else [{"window": period or "month", "usd": usd}]
            bind.execute(sa.update(t).where(t.c.id == row_id).values(budgets=budgets))
        # ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not batch mode's copy of the
        # table: dropping the old table would set the keys' profile_slug to NULL
        op.drop_column(table, "budget_usd")
        op.drop_column(table, "budget_period")
    op.create_table(
        "teams",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("available_models", sa.JSON(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("budgets", sa.JSON(), nullable=False),
        sa.Column("caps", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=True),
        sa.Column("ends_at", sa.DateTime(), nullable=True),
        sa.Column("alert_percent", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "team_members",
        sa.Column("team", sa.String(length=255), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("budgets", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("team", "user"),
    )


def downgrade() -> None:
    op.drop_table("team_members")
    op.drop_table("teams")
    bind = op.get_bind()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("budget_usd", sa.Float(), nullable=True))
            batch_op.add_column(sa.Column("budget_period", sa.String(length=16), nullable=True))
        t = _table(table, sa.column("budget_usd"), sa.column("budget_period"))
        for row_id, budgets in bind.execute(sa.select(t.c.id, t.c.budgets)).all():
            if budgets:  # the first window only: an earlier version knew one
                first = budgets[0]
                bind.execute(
                    sa.update(t)
                    .where(t.c.id == row_id)
                    .values(budget_usd=first["usd"], budget_period=first["window"])
                )
        op.drop_column(table, "budgets")

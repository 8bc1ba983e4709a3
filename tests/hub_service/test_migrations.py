"""The schema is created by alembic migrations, from empty, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from hub_service import db


def test_migrations_create_the_schema_from_empty_and_round_trip(db_url):
    engine = db.make_engine(db_url)
    assert db.current_revision(engine) is None

    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"models", "profiles", "api_keys", "usage", "alembic_version"} <= tables
    columns = {c["name"] for c in inspect(engine).get_columns("api_keys")}
    assert "key_hash" in columns and "key" not in columns  # keys are stored hashed

    db.downgrade(engine, "base")
    assert not {"models", "api_keys", "usage"} & set(inspect(engine).get_table_names())

    db.upgrade(engine)  # and back up again
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_migrations_match_the_models(db_url):
    """Autogenerate finds nothing to change: the migrations and the ORM agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = db.make_engine(db_url)
    db.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.Base.metadata)
    engine.dispose()
    assert diff == []

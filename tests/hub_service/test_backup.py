"""``maas backup`` and ``maas restore`` of a SQLite database: a backup taken while a
gateway-like writer keeps writing is one consistent state, and once restored into a
fresh path the service serves it (its keys, its usage totals). Bad backups and
PostgreSQL URLs are refused with a sentence."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest
from inprocess import ServedService
from sqlalchemy import func, select
from waiting import until

from hub_service import cli, db, keys

NOW = dt.datetime(2026, 12, 3, 12)
SECRET = "sk-maas-backupsecret00000000001"


def maas(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def make_database(path) -> str:
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(db.make_session_factory(engine)) as session:
        session.add(
            db.ApiKey(
                id="k1", key_hash=keys.hash_key(SECRET), prefix="sk-maas-ba", last4="0001",
                user="ann", name="laptop", expires_at=NOW + dt.timedelta(days=30),
            )
        )  # fmt: skip
    engine.dispose()
    return url


def write_pairs(url: str, stop: threading.Event, written: list) -> None:
    """A gateway's writes: two usage rows a transaction, until ``stop``."""
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    while not stop.is_set():
        with db.session_scope(factory) as session:
            n = len(written)
            for _ in range(2):
                session.add(
                    db.Usage(ts=NOW, user="ann", key_id="k1", model="m", cost_usd=0.5,
                             prompt_tokens=10, completion_tokens=5, request_id=f"r{n}")
                )  # fmt: skip
        written.append(n)
    engine.dispose()


def test_a_backup_taken_while_writing_restores_and_is_served(tmp_path, capsys, monkeypatch):
    url = make_database(tmp_path / "live.sqlite")
    stop, written = threading.Event(), []
    writer = threading.Thread(target=write_pairs, args=(url, stop, written))
    writer.start()
    try:
        until(lambda: len(written) >= 50, 60, "the writer at work", every=0.01)
        status, out, err = maas(capsys, "backup", str(tmp_path / "b.sqlite"), "--db-url", url)
        during = len(written)
    finally:
        stop.set()
        writer.join(30)
    assert status == 0, err
    assert f"(schema revision {db.head_revision()})" in out
    assert len(written) > during >= 50  # it was taken among the writes

    # one consistent state: whole transactions only
    with sqlite3.connect(tmp_path / "b.sqlite") as copy:
        rows, requests = copy.execute(
            "SELECT count(*), count(DISTINCT request_id) FROM usage"
        ).fetchone()
    assert rows == 2 * requests and rows >= 100

    fresh = f"sqlite:///{tmp_path / 'restored' / 'maas.sqlite'}"
    (tmp_path / "restored").mkdir()
    status, out, err = maas(capsys, "restore", str(tmp_path / "b.sqlite"), "--db-url", fresh)
    assert status == 0, err
    assert "start the service" in out

    served = ServedService(fresh, monkeypatch, lambda: NOW)
    try:
        body = served.get("users/ann/usage", "ann", days=30).json()
        assert body["total_requests"] == rows
        assert body["total_cost_usd"] == pytest.approx(0.5 * rows)
        (key,) = served.get("users/ann/keys", "ann").json()["keys"]
        assert (key["id"], key["requests"]) == ("k1", rows)
        with served.service.session_factory() as session:  # as the gateway finds a key
            found = session.scalar(
                select(db.ApiKey.user).where(db.ApiKey.key_hash == keys.hash_key(SECRET))
            )
            assert found == "ann"
    finally:
        served.stop()


def test_restore_keeps_the_database_it_replaces(tmp_path, capsys):
    url = make_database(tmp_path / "live.sqlite")
    assert maas(capsys, "backup", str(tmp_path / "b.sqlite"), "--db-url", url)[0] == 0
    engine = db.make_engine(url)
    with db.session_scope(db.make_session_factory(engine)) as session:
        session.add(db.Usage(ts=NOW, user="ann", model="m"))  # written after the backup
    engine.dispose()

    status, out, err = maas(capsys, "restore", str(tmp_path / "b.sqlite"), "--db-url", url)

    assert status == 0, err
    (aside,) = tmp_path.glob("live.sqlite.before-restore-*")
    assert str(aside) in out
    for path, usage_rows in ((tmp_path / "live.sqlite", 0), (aside, 1)):
        engine = db.make_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(db.Usage)) == usage_rows
        engine.dispose()


def test_bad_backups_and_postgres_urls_are_refused_in_a_sentence(tmp_path, capsys):
    url = make_database(tmp_path / "live.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    sqlite3.connect(tmp_path / "empty.sqlite").close()
    with sqlite3.connect(tmp_path / "future.sqlite") as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    for file, sentence in (
        ("junk.sqlite", "is not a readable SQLite database"),
        ("empty.sqlite", "is not a MaaS database"),
        ("future.sqlite", "at schema revision 9999, which this version"),
        ("missing.sqlite", "does not exist"),
    ):
        status, out, err = maas(capsys, "restore", str(tmp_path / file), "--db-url", url)
        assert status == 1 and sentence in err, err
        assert "Traceback" not in err and not list(tmp_path.glob("*.before-restore-*"))
    status, _, err = maas(capsys, "backup", str(tmp_path / "junk.sqlite"), "--db-url", url)
    assert status == 1 and "already exists" in err

    pg = "postgresql://maas:hunter2@db-rw.maas:5432/app"
    for command in ("backup", "restore"):
        status, _, err = maas(capsys, command, str(tmp_path / "x.sqlite"), "--db-url", pg)
        assert status == 1 and "pg_dump" in err and "CloudNativePG" in err
        assert "hunter2" not in err

"""The gateway's usage writer on a real PostgreSQL database: a row the database refuses
never holds up the others, and a full queue drops rows (counted, logged) instead of
blocking requests."""

from __future__ import annotations

import itertools
import logging
import os
import time

import pytest
from pg import PostgresServer
from sqlalchemy import func, select

from hub_service import db
from hub_service.db import Usage
from hub_service.gateway.usage import USAGE_DEFAULTS, RefusalCounts, UsageWriter, clean_row

_databases = itertools.count()


@pytest.fixture
def engine(postgres):
    url = postgres.create_database(f"writer_{os.getpid()}_{next(_databases)}")
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


def row(user: str, **fields) -> dict:
    return {
        **USAGE_DEFAULTS,
        "ts": db.utcnow(),
        "user": user,
        "model": "m",
        "status_code": 200,
        "gateway": "g",
        **fields,
    }


def users(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(Usage.user).order_by(Usage.id)))


POISON = {
    "a NUL character": {"model": "m\x00"},
    "a 10 KB name": {"model": "m" * 10_000},
    "invalid UTF-8": {"error": "bad \udcff bytes"},
}


def test_rows_the_database_refuses_are_dropped_alone(engine, caplog):
    """Written as they arrive (not cleaned first), each poisoned row fails its batch on
    PostgreSQL; the batch is split until the row is alone, and only it is dropped."""
    writer = UsageWriter(engine, "g", RefusalCounts(), start=False)
    batch = [row("good-0")]
    for i, (what, poison) in enumerate(POISON.items(), start=1):
        batch += [row(what, **poison), row(f"good-{i}")]
    with caplog.at_level(logging.ERROR, logger="maas.gateway"):
        writer._write(batch)
    assert users(engine) == ["good-0", "good-1", "good-2", "good-3"]
    assert writer.dropped_bad == 3 and writer.written == 4
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 3
    assert all(len(m) < 300 and "\x00" not in m for m in dropped)


@pytest.mark.parametrize("what", POISON)
def test_rows_queued_by_the_gateway_are_cleaned_and_kept(engine, what):
    """What the gateway queues goes through clean_row: the same values are stored,
    cut to their column and without NUL or invalid characters."""
    cleaned = clean_row(row(what, **POISON[what]))
    writer = UsageWriter(engine, "g", RefusalCounts(), start=False)
    writer._write([cleaned])
    assert users(engine) == [what] and writer.dropped_bad == 0


def test_a_full_queue_drops_rows_counts_them_and_says_so(engine, caplog):
    writer = UsageWriter(engine, "g", RefusalCounts(), max_queue=5, start=False)
    with caplog.at_level(logging.ERROR, logger="maas.gateway"):
        for i in range(8):
            writer.put(row(f"u{i}"))
    assert writer.dropped_full == 3
    # said at the first drop, then at most once a minute
    [said] = [r.getMessage() for r in caplog.records if "queue is full" in r.getMessage()]
    assert "The usage queue is full (5 rows): 1 usage row(s) dropped so far" in said
    writer.start()
    writer.close()
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(Usage.id))) == 5


def test_rows_wait_while_the_database_is_away():
    """Its own PostgreSQL server, stopped while rows arrive and started again: the rows
    are kept and written once it answers."""
    server = PostgresServer().start()
    try:
        url = server.create_database("away")
        engine = db.make_engine(url)
        db.upgrade(engine)
        writer = UsageWriter(engine, "g", RefusalCounts())
        writer.put(row("before"))
        wait_for(lambda: writer.written == 1)
        server.pause()
        for i in range(3):
            writer.put(row(f"while-away-{i}"))
        wait_for(lambda: writer.queue.empty())  # taken, and failing
        assert writer.written == 1
        server.resume()
        wait_for(lambda: writer.written == 4)
        writer.close()
        assert users(engine) == ["before", "while-away-0", "while-away-1", "while-away-2"]
        assert writer.dropped_bad == 0
        engine.dispose()
    finally:
        server.stop()


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_an_error_text_loses_the_gateways_secrets_whatever_the_key_prefixes(monkeypatch):
    """Backend keys under the default prefix, and the gateway's secret settings, are
    redacted from a stored error even when other prefixes are configured."""
    from hub_service.gateway.usage import redact

    monkeypatch.setenv("MAAS_BACKEND_KEY_ENV_PREFIXES", "VLLM_")
    monkeypatch.setenv("MAAS_BACKEND_OPENAI", "backend-key-0123456789")
    monkeypatch.setenv("VLLM_KEY", "vllm-key-0123456789")
    monkeypatch.setenv("MAAS_METRICS_TOKEN", "metrics-token-0123456789")
    text = redact(
        "upstream said backend-key-0123456789 vllm-key-0123456789 metrics-token-0123456789"
    )
    assert text == "upstream said [redacted] [redacted] [redacted]"

"""PostgreSQL stops for 30 s while a real gateway is under load: the gateway keeps
answering the keys it knows (a key it does not know gets 503 with a sentence), keeps the
usage rows in its queue, and writes every one of them when the database is back."""

from __future__ import annotations

import threading
import time

import requests
from gatewayproc import MOCK_SMALL, issue_key, start_gateway
from pg import PostgresServer
from sqlalchemy import func, select

from hub_service import catalog, db
from hub_service.db import Usage, session_scope

OUTAGE = 30.0  # seconds


def test_thirty_seconds_without_postgresql_lose_no_usage_row(log_dir):
    server = PostgresServer().start()
    gateway = None
    try:
        url = server.create_database("outage")
        engine = db.make_engine(url)
        db.upgrade(engine)
        sessions = db.make_session_factory(engine)
        with session_scope(sessions) as s:
            catalog.seed(s, [MOCK_SMALL], [{"slug": "p", "display_name": "P", "models": ["*"]}])
        _, key = issue_key(sessions, "olga", "p")
        gateway = start_gateway(
            url, log_dir / "gateway-outage.log", env={"MAAS_REFRESH_INTERVAL": "0.5"}
        )
        answers: list[tuple[float, int]] = []
        stop = threading.Event()

        def load():
            with requests.Session() as http:
                while not stop.is_set():
                    r = http.post(
                        f"{gateway.url}/v1/chat/completions",
                        headers={"Authorization": f"Bearer {key}"},
                        json={
                            "model": "mock-small",
                            "messages": [{"role": "user", "content": "hi"}],
                        },
                        timeout=30,
                    )
                    answers.append((time.monotonic(), r.status_code))

        worker = threading.Thread(target=load)
        worker.start()

        def until(condition, timeout=60.0):
            deadline = time.monotonic() + timeout
            while not condition():
                assert time.monotonic() < deadline
                time.sleep(0.1)

        until(lambda: len(answers) >= 20)
        server.pause()
        down = time.monotonic()
        stranger = requests.post(  # a key the gateway has not seen: it cannot say
            f"{gateway.url}/v1/chat/completions",
            headers={"Authorization": "Bearer sk-maas-" + "x" * 43},
            json={"model": "mock-small", "messages": []},
            timeout=30,
        )
        assert stranger.status_code == 503
        assert stranger.json()["error"]["message"].startswith(
            "The MaaS gateway cannot reach its database to check this key"
        )
        until(lambda: time.monotonic() - down >= OUTAGE, timeout=OUTAGE + 10)
        during = [status for t, status in answers if t > down]
        server.resume()
        stop.set()
        worker.join(timeout=60)

        assert len(during) >= 20, "too little load during the outage to tell"
        assert set(during) == {200}, "a known key was refused while the database was away"
        served = sum(1 for _, status in answers if status == 200)

        def rows() -> int:
            with engine.connect() as conn:
                return conn.scalar(select(func.count(Usage.id)))

        until(lambda: rows() >= served, timeout=90)
        assert rows() == served  # every one, once
        assert gateway.metrics()['maas_gateway_usage_rows_dropped{cause="queue_full"}'] == 0
        engine.dispose()
    finally:
        if gateway is not None:
            gateway.terminate()
        server.stop()


def test_keys_go_unconfirmed_once_the_database_is_away_too_long(log_dir):
    """With MAAS_MAX_STALENESS=3, a known key stops working 3 s into an outage (a
    revocation could not be seen any more) and works again once the database is back."""
    server = PostgresServer().start()
    gateway = None
    try:
        url = server.create_database("stale")
        engine = db.make_engine(url)
        db.upgrade(engine)
        sessions = db.make_session_factory(engine)
        with session_scope(sessions) as s:
            catalog.seed(s, [MOCK_SMALL], [{"slug": "p", "display_name": "P", "models": ["*"]}])
        _, key = issue_key(sessions, "otto", "p")
        engine.dispose()
        gateway = start_gateway(
            url,
            log_dir / "gateway-stale.log",
            env={"MAAS_REFRESH_INTERVAL": "0.5", "MAAS_MAX_STALENESS": "3"},
        )
        assert gateway.chat(key, "mock-small").status_code == 200
        server.pause()
        deadline = time.monotonic() + 30
        while (r := gateway.chat(key, "mock-small")).status_code == 200:
            assert time.monotonic() < deadline, "a key stayed confirmed without its database"
            time.sleep(0.2)
        assert r.status_code == 503
        assert "has not reached its database for" in r.json()["error"]["message"]
        server.resume()
        deadline = time.monotonic() + 60
        while (r := gateway.chat(key, "mock-small")).status_code != 200:
            assert time.monotonic() < deadline, r.text
            time.sleep(0.2)
    finally:
        if gateway is not None:
            gateway.terminate()
        server.stop()

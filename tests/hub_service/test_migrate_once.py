"""Migrations once per deploy: ``python -m hub_service --migrate-only`` migrates and
seeds, then exits; replicas started with ``MAAS_MIGRATE_AT_START=0`` leave the schema
alone and wait for it; the gateway starts before the job and serves once it has run.
Real processes on SQLite and PostgreSQL, as Kubernetes runs them."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from gatewayproc import MOCK_SMALL, issue_key, start_gateway
from pg import free_port
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hub_service import catalog, db
from hub_service.local import wait_for_url


def service_env(port: int, **extra: str) -> dict:
    """What the service's Deployment gives it: no hub needs to run for these tests."""
    return {
        "PATH": "/usr/bin:/bin",
        "JUPYTERHUB_API_TOKEN": secrets.token_hex(16),
        "JUPYTERHUB_API_URL": f"http://127.0.0.1:{free_port()}/hub/api",
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/maas/",
        **extra,
    }


def migrate(db_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The migration Job's command."""
    return subprocess.run(
        [sys.executable, "-m", "hub_service", "--migrate-only", f"--db-url={db_url}", *args],
        cwd=cwd,
        env=service_env(free_port()),
        capture_output=True,
        text=True,
        timeout=120,
    )


def wait_until(condition, what: str, proc=None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc is None or proc.poll() is None, f"the process ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)


def count(db_url: str, model) -> int:
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(model))
    finally:
        engine.dispose()


def revision(db_url: str) -> str | None:
    engine = db.make_engine(db_url)
    try:
        return db.current_revision(engine)
    finally:
        engine.dispose()


def test_postgres_urls_mean_psycopg_3():
    """CloudNativePG's Secret gives ``postgresql://``; Heroku-style ones ``postgres://``."""
    for given in ("postgresql://app:pw@db-rw.maas:5432/app", "postgres://app:pw@db-rw:5432/app"):
        assert db.engine_url(given).drivername == "postgresql+psycopg"
        assert db.make_engine(given).dialect.driver == "psycopg"
    explicit = "postgresql+psycopg2://app:pw@db/app"
    assert db.engine_url(explicit).drivername == "postgresql+psycopg2"
    assert db.engine_url("sqlite:///maas.sqlite").drivername == "sqlite"


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_cloudnativepg_style_url_migrates_a_real_database(postgres, scheme, tmp_path):
    url = make_url(postgres.create_database(f"cnpg_{scheme}_{free_port()}"))
    plain = url.set(drivername=scheme).render_as_string(hide_password=False)
    assert plain.startswith(f"{scheme}://")

    done = migrate(plain, tmp_path)

    assert done.returncode == 0, done.stderr
    assert revision(plain) == db.head_revision()


def test_the_migration_job_migrates_seeds_and_exits(db_url, tmp_path):
    first = migrate(db_url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"Schema created at revision {db.head_revision()}" in first.stderr
    assert revision(db_url) == db.head_revision()
    assert count(db_url, db.Profile) == len(catalog.DEFAULT_PROFILES)

    again = migrate(db_url, tmp_path)  # the next deploy's job: nothing to do
    assert again.returncode == 0, again.stderr
    assert "Schema already at revision" in again.stderr
    assert count(db_url, db.Profile) == len(catalog.DEFAULT_PROFILES)


@pytest.mark.postgres
def test_migration_jobs_started_together_take_turns(postgres, tmp_path):
    """Two deploys' jobs (or replicas with migrate_at_start on) at once: each waits for
    the other's migration and seeding; both succeed, and the seeds are there once."""
    url = postgres.create_database(f"together_{free_port()}")
    argv = [sys.executable, "-m", "hub_service", "--migrate-only", f"--db-url={url}"]
    procs = [
        subprocess.Popen(argv, cwd=tmp_path, env=service_env(free_port()), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(4)
    ]  # fmt: skip
    outputs = [p.communicate(timeout=120)[0] for p in procs]

    assert [p.returncode for p in procs] == [0] * 4, outputs
    assert revision(url) == db.head_revision()
    assert count(url, db.Profile) == len(catalog.DEFAULT_PROFILES)


@pytest.mark.parametrize(
    "url",
    ["postgres://maas:hunter2-secret@127.0.0.1:{port}/maas", "sqlite:////nonexistent/dir/m.db"],
)
def test_the_migration_job_says_in_a_sentence_when_the_database_is_away(url, tmp_path):
    done = migrate(url.format(port=free_port()), tmp_path)

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # no traceback
    assert "cannot be reached" in lines[0] and "so its schema was not migrated." in lines[0]
    assert "hunter2" not in done.stderr  # the password is masked


def start_replica(db_url: str, tmp_path: Path, port: int, **env: str) -> subprocess.Popen:
    """``python -m hub_service`` as the service's Deployment runs it."""
    log = open(tmp_path / f"service-{port}.log", "w")  # noqa: SIM115 - the process owns it
    return subprocess.Popen(
        [sys.executable, "-m", "hub_service", f"--db-url={db_url}"],
        cwd=tmp_path,
        env=service_env(port, **{"MAAS_MIGRATE_AT_START": "0", **env}),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


def test_a_replica_waits_for_the_migration_job_then_serves(db_url, tmp_path):
    port = free_port()
    health = f"http://127.0.0.1:{port}/services/maas/api/v1/health"
    replica = start_replica(db_url, tmp_path, port)
    log = tmp_path / f"service-{port}.log"
    try:
        # Given a replica started before the job: it says what it waits for, once
        wait_until(lambda: "Waiting up to 600 s" in log.read_text(), "waiting line", replica)
        line = next(x for x in log.read_text().splitlines() if "Waiting" in x)
        assert "python -m hub_service --migrate-only" in line
        assert f"this version needs revision {db.head_revision()}" in line
        # and leaves the database alone, serving nothing
        assert revision(db_url) is None
        with pytest.raises(requests.ConnectionError):
            requests.get(health, timeout=5)

        # When the job has run
        assert migrate(db_url, tmp_path).returncode == 0

        # Then the replica serves, its health showing the database at head
        assert wait_for_url(health, replica, timeout=60), log.read_text()
        body = requests.get(health, timeout=5).json()
        assert body["status"] == "ok"
        assert body["database"] == {
            "reachable": True,
            "revision": db.head_revision(),
            "head": db.head_revision(),
        }
        assert log.read_text().count("Waiting up to") == 1
    finally:
        assert stop(replica) == 0, log.read_text()


def test_a_replica_gives_up_after_its_wait(db_url, tmp_path):
    port = free_port()
    replica = start_replica(db_url, tmp_path, port, MAAS_SCHEMA_WAIT_TIMEOUT="1")

    assert replica.wait(timeout=60) == 1
    out = (tmp_path / f"service-{port}.log").read_text()
    assert "Not starting: after 1 s the database has no schema yet" in out
    assert "Traceback" not in out
    assert revision(db_url) is None


def test_a_replica_with_migrate_at_start_on_migrates_itself(db_url, tmp_path):
    """The default (the hub-managed service of the local demo): migrate, seed, serve."""
    port = free_port()
    replica = start_replica(db_url, tmp_path, port, MAAS_MIGRATE_AT_START="1")
    try:
        health = f"http://127.0.0.1:{port}/services/maas/api/v1/health"
        assert wait_for_url(health, replica, timeout=60)
        assert revision(db_url) == db.head_revision()
        assert count(db_url, db.Profile) == len(catalog.DEFAULT_PROFILES)
    finally:
        assert stop(replica) == 0


@pytest.mark.postgres
def test_the_gateway_started_before_the_job_serves_once_it_has_run(postgres, tmp_path, log_dir):
    url = postgres.create_database(f"gateway_first_{free_port()}")
    gateway = start_gateway(
        url, log_dir / "gateway-before-migration.log", env={"MAAS_REFRESH_INTERVAL": "0.2"}
    )
    try:
        # Given a gateway on an empty database: alive, and saying why it has no models
        assert requests.get(f"{gateway.url}/health/liveliness", timeout=10).status_code == 200
        said = gateway.log_path.read_text()
        assert "The MaaS database is not ready (the database has no schema yet" in said
        assert "python -m hub_service --migrate-only" in said

        # When the job migrates and seeds a model
        config = tmp_path / "maas_config.py"
        config.write_text(
            f"c.MaaSService.seed_models = {json.dumps([MOCK_SMALL])}\n"
            'c.MaaSService.seed_profiles = [{"slug": "p", "display_name": "P", "models": ["*"]}]\n'
        )
        assert migrate(url, tmp_path).returncode == 0
        engine = db.make_engine(url)
        _, key = issue_key(db.make_session_factory(engine), "gina", "p")
        engine.dispose()

        # Then the gateway serves it without a restart
        wait_until(lambda: gateway.chat(key, "mock-small").status_code == 200, "answer", timeout=90)
    finally:
        gateway.terminate()


def test_a_database_that_does_not_answer_is_said_in_words():
    """The health check's state and the start's sentence come from one reading: the
    error's name for the health check (no text: it may name hosts and users), its first
    line for the operator."""
    engine = db.make_engine(f"postgresql+psycopg://maas:pw@127.0.0.1:{free_port()}/maas")
    state = db.schema_state(engine)
    assert state["reachable"] is False and state["revision"] is None
    assert state["error"] == "OperationalError" and state["head"] == db.head_revision()
    problem = db.schema_problem(engine)
    assert problem.startswith("the database cannot be read (OperationalError: ")
    assert "refused" in problem

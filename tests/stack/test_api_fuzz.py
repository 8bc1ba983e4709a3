"""Property-based fuzzing of the service's API (schemathesis) on the running stack,
against the service's own OpenAPI document, once with a user's token and once with an
admin's: no response is a server error, and every response conforms to the document
(status codes, content types, schemas). Bounded: a fixed seed and a few examples per
operation. The admin's run changes the catalog, the profiles and the overrides at
random: they are put back as they were afterwards, so the tests that share the stack
see what they set up, whenever this runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine

EXAMPLES = 25  # per operation
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]


def fuzz(stack, token: str) -> subprocess.CompletedProcess:
    api = f"{stack.hub_url}/services/maas/api/v1"
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "st"),
            "run",
            f"{api}/openapi.json",
            "--url",
            api,
            "--header",
            f"Authorization: token {token}",
            "--checks",
            ",".join(CHECKS),
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            "20261126",
            "--phases",
            "examples,coverage,fuzzing",
            "--generation-database",
            "none",
            # one worker: hypothesis parses lambdas' source with ast.parse, which
            # CPython 3.11 can fail in two threads at once ("AST constructor recursion
            # depth mismatch", a SystemError that ended a CI run)
            "--workers",
            "1",
            # a server's start answers when the spawner is done or after the hub's
            # slow_spawn_timeout (10 s), plus the service's own lookups: schemathesis's
            # default 10 s ended a CI run as a "Network Error"
            "--request-timeout",
            "60",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )


# what an admin's calls change that other tests of the session rely on
ADMIN_TABLES = ("models", "profiles", "policy_overrides")


@pytest.fixture
def admin_changes_undone(stack):
    """Put the catalog, the profiles and the overrides back as they were (rows as
    the database holds them), then wait until the gateway has read them again."""
    engine = create_engine(stack.db_url)
    meta = MetaData()
    meta.reflect(engine, only=ADMIN_TABLES)
    with engine.connect() as conn:
        saved = {t: conn.execute(meta.tables[t].select()).mappings().all() for t in ADMIN_TABLES}
    yield
    with engine.begin() as conn:
        for table in reversed(ADMIN_TABLES):
            conn.execute(meta.tables[table].delete())
        for table in ADMIN_TABLES:
            if saved[table]:
                conn.execute(meta.tables[table].insert(), [dict(row) for row in saved[table]])
    engine.dispose()
    stack.gateway_refreshed()


@pytest.mark.parametrize("who", ["user", "admin"])
def test_fuzzing_the_api_finds_no_server_error_and_no_departure_from_the_document(
    request, stack, who
):
    if who == "admin":
        request.getfixturevalue("admin_changes_undone")
    token = stack.admin.token if who == "admin" else stack.user("fuzzy").create_token()
    r = fuzz(stack, token)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]

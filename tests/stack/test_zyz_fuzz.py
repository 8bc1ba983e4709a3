"""Property-based fuzzing of the service's API (schemathesis) on the running stack,
against the service's own OpenAPI document, once with a user's token and once with an
admin's: no response is a server error, and every response conforms to the document
(status codes, content types, schemas). Bounded: a fixed seed and a few examples per
operation. Runs late in the stack session: the admin's run leaves odd catalog entries
behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
            "--workers",
            "2",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.parametrize("who", ["user", "admin"])
def test_fuzzing_the_api_finds_no_server_error_and_no_departure_from_the_document(stack, who):
    token = stack.admin.token if who == "admin" else stack.user("fuzzy").create_token()
    r = fuzz(stack, token)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]

"""Shared test plumbing: where logs go (the secrets check reads them all)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
LOGS = ARTIFACTS / "logs"


@pytest.fixture(scope="session")
def log_dir() -> Path:
    LOGS.mkdir(parents=True, exist_ok=True)
    return LOGS

"""Money as the service, the gateway's messages, the spawn form and the ``maas`` command
show it: the cases JupyterLab's and the portal's formatter (src/numbers.ts) are tested
against too, so a budget reads the same everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub_service.numbers import money, per_million

CASES = json.loads((Path(__file__).resolve().parents[1] / "money_cases.json").read_text())


@pytest.mark.parametrize(("value", "text"), CASES["money"])
def test_money(value, text):
    assert money(value) == text


@pytest.mark.parametrize(("value", "text"), CASES["per_million"])
def test_per_million(value, text):
    assert per_million(value) == text

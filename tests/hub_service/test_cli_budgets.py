"""The ``maas`` command's reading of budgets: ``--set budgets=day:1,month:20`` (and
``caps``) is the list the API takes, JSON still works, other fields are untouched, and
bad input is a sentence naming the fix, never a traceback. No service is called."""

from __future__ import annotations

import pytest

from hub_service.cli import CLIError, budgets_text, main, parse_sets


def test_window_usd_pairs_are_the_list_the_api_takes():
    body = parse_sets(["budgets=day:1,month:20", "caps=term:500.5"])

    assert body == {
        "budgets": [{"window": "day", "usd": 1.0}, {"window": "month", "usd": 20.0}],
        "caps": [{"window": "term", "usd": 500.5}],
    }


def test_spaces_around_pairs_are_allowed_and_an_empty_value_is_no_budgets():
    assert parse_sets(["budgets= day : 1 , week:0.5"])["budgets"] == [
        {"window": "day", "usd": 1.0},
        {"window": "week", "usd": 0.5},
    ]
    assert parse_sets(["budgets="]) == {"budgets": []}


def test_json_budgets_are_passed_as_written():
    body = parse_sets(['budgets=[{"window": "month", "usd": 20}]'])

    assert body == {"budgets": [{"window": "month", "usd": 20}]}


def test_other_fields_are_not_read_as_budgets():
    body = parse_sets(["note=day:1", "description=a,b", "rpm_limit=60"])

    assert body == {"note": "day:1", "description": "a,b", "rpm_limit": 60}


@pytest.mark.parametrize("value", ["day1", "day:", ":5", "day:one", "day:1,", "day:inf", "day:nan"])
def test_a_malformed_pair_is_refused_with_the_fix(value):
    with pytest.raises(CLIError) as refused:
        parse_sets([f"budgets={value}"])

    message = str(refused.value)
    assert message.startswith(f"--set budgets={value}: ")
    assert "is not WINDOW:USD" in message
    assert "budgets=day:1,month:20" in message


def test_the_command_says_what_is_wrong_and_exits_1(capsys):
    argv = ["--url", "http://127.0.0.1:9/", "--token", "t", "teams", "set", "cs101"]

    status = main([*argv, "--set", "caps=month=20"])

    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("maas: --set caps=month=20: 'month=20' is not WINDOW:USD.")
    assert "Traceback" not in err


def test_making_a_team_needs_its_models(capsys):
    argv = ["--url", "http://127.0.0.1:9/", "--token", "t", "teams", "make", "cs101"]

    assert main(argv) == 1
    assert "maas teams make needs --models" in capsys.readouterr().err


def test_budgets_read_compactly_in_tables():
    budgets = [{"window": "day", "usd": 1}, {"window": "month", "usd": 20}]

    assert budgets_text(budgets) == "$1.00/day, $20.00/month"
    assert budgets_text([{"window": "hour", "usd": 0.005}]) == "$0.005/hour"
    assert budgets_text([]) == budgets_text(None) == ""

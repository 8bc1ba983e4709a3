"""Budget windows: where each starts and resets, in UTC and in a configured time zone,
across a change of the clocks (every ``now`` is given: the clock is injected)."""

from __future__ import annotations

import datetime as dt

import pytest

from hub_service import windows
from hub_service.windows import bounds, zone

UTC = zone("UTC")
BERLIN = zone("Europe/Berlin")


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    "window, now, start, end",
    [
        ("hour", "2026-11-26T15:30", "2026-11-26T15:00", "2026-11-26T16:00"),
        ("day", "2026-11-26T15:30", "2026-11-26", "2026-11-27"),
        ("week", "2026-11-26T15:30", "2026-11-23", "2026-11-30"),  # a Thursday; from Monday
        ("month", "2026-11-26T15:30", "2026-11-01", "2026-12-01"),
        ("month", "2026-12-31T23:59", "2026-12-01", "2027-01-01"),
        ("month", "2028-02-10T00:00", "2028-02-01", "2028-03-01"),  # leap year
    ],
)
def test_in_utc_windows_start_at_midnight_on_mondays_and_on_the_first(window, now, start, end):
    assert bounds(window, t(now), UTC) == (t(start), t(end))


@pytest.mark.parametrize(
    "now, start, end",
    [
        # 22:59 UTC on 3 December is 23:59 in Berlin: still the 3rd there
        ("2026-12-03T22:59", "2026-12-02T23:00", "2026-12-03T23:00"),
        # a minute later it is the 4th in Berlin, and the 3rd still in UTC
        ("2026-12-03T23:00", "2026-12-03T23:00", "2026-12-04T23:00"),
        # summer time: midnight in Berlin is 22:00 UTC
        ("2026-07-01T21:59", "2026-06-30T22:00", "2026-07-01T22:00"),
        ("2026-07-01T22:00", "2026-07-01T22:00", "2026-07-02T22:00"),
    ],
)
def test_a_day_in_berlin_resets_at_midnight_berlin_time(now, start, end):
    assert bounds("day", t(now), BERLIN) == (t(start), t(end))


def test_the_days_of_the_clock_changes_last_23_and_25_hours():
    spring = bounds("day", t("2026-03-29T12:00"), BERLIN)  # 02:00 -> 03:00
    autumn = bounds("day", t("2026-10-25T12:00"), BERLIN)  # 03:00 -> 02:00
    assert spring == (t("2026-03-28T23:00"), t("2026-03-29T22:00"))
    assert autumn == (t("2026-10-24T22:00"), t("2026-10-25T23:00"))
    assert spring[1] - spring[0] == dt.timedelta(hours=23)
    assert autumn[1] - autumn[0] == dt.timedelta(hours=25)
    # the week and the month that hold them follow Berlin's midnights too
    assert bounds("week", t("2026-10-25T12:00"), BERLIN) == (
        t("2026-10-18T22:00"),
        t("2026-10-25T23:00"),
    )
    assert bounds("month", t("2026-10-25T12:00"), BERLIN) == (
        t("2026-09-30T22:00"),
        t("2026-10-31T23:00"),
    )


@pytest.mark.parametrize(
    "now, start",
    [
        ("2026-10-25T00:30", "2026-10-25T00:00"),  # 02:30 CEST, the first 02:00 hour
        ("2026-10-25T01:30", "2026-10-25T01:00"),  # 02:30 CET, the repeated hour
        ("2026-03-29T01:30", "2026-03-29T01:00"),  # 03:30 CEST, just after the jump
    ],
)
def test_hours_are_hours_of_real_time_across_the_clock_changes(now, start):
    assert bounds("hour", t(now), BERLIN) == (t(start), t(start) + dt.timedelta(hours=1))


def test_a_zone_half_an_hour_off_utc_starts_its_hours_on_the_half_hour():
    kolkata = zone("Asia/Kolkata")
    assert bounds("hour", t("2026-01-01T10:10"), kolkata) == (
        t("2026-01-01T09:30"),
        t("2026-01-01T10:30"),
    )
    start, end = bounds("day", t("2026-01-01T10:10"), kolkata)
    assert (start, end) == (t("2025-12-31T18:30"), t("2026-01-01T18:30"))
    # every window starts on a quarter hour: spend is summed in quarter-hour buckets
    assert all(windows.on_bucket(x) for x in (start, end))


def test_the_configured_zone_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(windows.TIMEZONE_ENV, "Europe/Berlin")
    assert bounds("day", t("2026-12-03T23:30")) == (t("2026-12-03T23:00"), t("2026-12-04T23:00"))
    monkeypatch.delenv(windows.TIMEZONE_ENV)
    assert bounds("day", t("2026-12-03T23:30")) == (t("2026-12-03"), t("2026-12-04"))


def test_bad_names_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")
    with pytest.raises(ValueError, match="use one of hour, day, week, month, term"):
        bounds("fortnight", t("2026-01-01"), UTC)
    with pytest.raises(ValueError, match="needs the team's term"):
        bounds("term", t("2026-01-01"), UTC)


def test_a_term_is_its_own_dates_and_says_why_it_grants_nothing_outside_them():
    term = windows.Term(t("2026-09-01T07:00"), t("2026-12-18T23:00"))
    assert bounds("term", t("2026-10-01"), UTC, (term.starts_at, term.ends_at)) == (
        term.starts_at,
        term.ends_at,
    )
    assert [term.state(t(x)) for x in ("2026-08-31", "2026-10-01", "2026-12-18T23:00")] == [
        "before",
        "during",
        "after",
    ]
    assert term.why_not("cs101", t("2026-10-01")) is None
    assert term.why_not("cs101", t("2027-01-01")) == (
        "Team 'cs101''s term ended at 2026-12-18T23:00:00Z."
    )

"""Budget windows: the spans of time a budget limits spending over, and when each resets.

A budget names its window: ``hour``, ``day``, ``week``, ``month`` or (for a team)
``term``. Hours, days, weeks (from Monday) and months (from the 1st) start at fixed
instants of the local time of one configured time zone (``MAAS_BUDGET_TIMEZONE``,
default UTC): with ``Europe/Berlin`` a day starts at 00:00 in Berlin, which is 23:00 UTC
in winter and 22:00 UTC in summer, and the days of the clock changes last 23 and 25
hours. A term is the team's own ``[starts_at, ends_at)``.

Everything here takes and returns naive UTC datetimes, as the database stores them, and
takes ``now`` from its caller (the service's and the gateway's injectable clocks).

Spend is summed in quarter-hour buckets (``bucket``): every zone's hours start on a
quarter hour of UTC, so a window's spend is the sum of whole buckets; a term's instants
must fall on a quarter hour too (``validation`` says so).
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .gateway.settings import BY_NAME as GATEWAY_SETTINGS

WINDOWS = ("hour", "day", "week", "month", "term")
CALENDAR = WINDOWS[:-1]  # the windows of the clock (a term is a team's own dates)
ADJECTIVE = {
    "hour": "hourly",
    "day": "daily",
    "week": "weekly",
    "month": "monthly",
    "term": "term",
}
BUCKET = dt.timedelta(minutes=15)
TIMEZONE_ENV = GATEWAY_SETTINGS["budget_timezone"].env
UTC = dt.UTC


def zone(name: str | None = None) -> ZoneInfo:
    """The time zone named ``name``, else the configured one ($MAAS_BUDGET_TIMEZONE,
    default UTC); ValueError with the fix for a name the system does not know."""
    name = name if name is not None else os.environ.get(TIMEZONE_ENV) or "UTC"
    return _zone(name)


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"Unknown time zone {name!r}: use an IANA name such as 'UTC' or 'Europe/Berlin'."
        ) from None


def bucket(ts: dt.datetime) -> dt.datetime:
    """The start of the quarter hour (UTC) that holds ``ts``."""
    return ts.replace(minute=ts.minute - ts.minute % 15, second=0, microsecond=0)


def on_bucket(ts: dt.datetime) -> bool:
    return ts == bucket(ts)


def _to_utc(local: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """A local wall-clock time as naive UTC. A time the clock skips (spring forward)
    is taken as the instant the clock jumps; ``fold=0`` picks the first of a repeated
    one."""
    aware = local.replace(tzinfo=tz)
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != local:  # in the gap: the zone's clocks jumped over it
        aware = (local + dt.timedelta(hours=1)).replace(tzinfo=tz, minute=0)
    return aware.astimezone(UTC).replace(tzinfo=None)


def bounds(
    window: str,
    now: dt.datetime,
    tz: ZoneInfo | None = None,
    term: tuple[dt.datetime, dt.datetime] | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in naive UTC of the ``window`` containing ``now`` (naive UTC), with
    the calendar of ``tz`` (default: the configured zone); a term's are its dates."""
    if window == "term":
        if term is None:
            raise ValueError("A term window needs the team's term (starts_at, ends_at).")
        return term
    if window not in CALENDAR:
        raise ValueError(f"unknown budget window {window!r}: use one of {', '.join(WINDOWS)}")
    tz = tz or zone()
    local = now.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    if window == "hour":
        # an hour of real time, starting when the zone's clock shows a whole hour
        # (the offset in force at ``now``: clocks change on whole hours)
        offset = now.replace(tzinfo=UTC).astimezone(tz).utcoffset() or dt.timedelta()
        local_now = now + offset
        into = local_now - local_now.replace(minute=0, second=0, microsecond=0)
        start = now - into
        return start, start + dt.timedelta(hours=1)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "day":
        start, end = day, day + dt.timedelta(days=1)
    elif window == "week":
        start = day - dt.timedelta(days=day.weekday())
        end = start + dt.timedelta(days=7)
    else:
        start = day.replace(day=1)
        end = start + dt.timedelta(days=calendar.monthrange(start.year, start.month)[1])
    return _to_utc(start, tz), _to_utc(end, tz)


def earliest_start(now: dt.datetime, tz: ZoneInfo | None = None) -> dt.datetime:
    """The earliest start of any calendar window running at ``now`` (a week may start
    in the previous month): spend before it matters to no calendar window."""
    return min(bounds(w, now, tz)[0] for w in CALENDAR)


@dataclass(frozen=True)
class Term:
    """A team's term, [starts_at, ends_at) in naive UTC."""

    starts_at: dt.datetime
    ends_at: dt.datetime

    def state(self, now: dt.datetime) -> str:
        """``before``, ``during`` or ``after`` the term."""
        if now < self.starts_at:
            return "before"
        return "during" if now < self.ends_at else "after"

    def why_not(self, team: str, now: dt.datetime) -> str | None:
        """The sentence that says why the team grants nothing at ``now``, or None."""
        state = self.state(now)
        if state == "before":
            return f"Team {team!r}'s term starts at {iso(self.starts_at)}."
        if state == "after":
            return f"Team {team!r}'s term ended at {iso(self.ends_at)}."
        return None


def iso(ts: dt.datetime) -> str:
    return ts.replace(microsecond=0).isoformat() + "Z"

"""The effective-policy merge (profile, then groups, then user) and budget periods."""

from __future__ import annotations

import datetime as dt

import pytest

from hub_service.db import PolicyOverride, Profile, UserGroup, session_scope
from hub_service.policy import effective, for_user, period_bounds


def profile(**kw):
    base = dict(
        slug="std",
        display_name="Std",
        models=["a"],
        budget_usd=10.0,
        budget_period="month",
        rpm_limit=60,
        tpm_limit=None,
    )
    return Profile(**{**base, **kw})


def override(kind, name, **kw):
    base = dict(
        extra_models=[], budget_usd=None, budget_period=None, rpm_limit=None, tpm_limit=None
    )
    return PolicyOverride(kind=kind, name=name, **{**base, **kw})


def test_the_profile_alone_decides_when_nothing_overrides_it():
    p = effective(profile(), [], None)
    assert (p.models, p.budget_usd, p.budget_period, p.rpm_limit, p.tpm_limit) == (
        ("a",),
        10.0,
        "month",
        60,
        None,
    )
    assert p.sources["budget_usd"] == "profile:std"


def test_groups_add_models_and_the_most_generous_group_setting_wins():
    groups = [
        override("group", "ml", extra_models=["b"], budget_usd=50.0, budget_period="week"),
        override("group", "interns", extra_models=["c", "a"], budget_usd=5.0, rpm_limit=10),
    ]
    p = effective(profile(), groups, None)
    assert p.models == ("a", "c", "b")  # union, in layer order, no repeats
    assert (p.budget_usd, p.budget_period) == (50.0, "week")
    assert p.rpm_limit == 10 and p.sources["rpm_limit"] == "group:interns"


def test_the_users_own_override_wins_over_groups_and_profile():
    groups = [override("group", "ml", budget_usd=50.0, budget_period="week")]
    user = override(
        "user", "ann", extra_models=["z"], budget_usd=1.0, budget_period="day", tpm_limit=1000
    )
    p = effective(profile(), groups, user)
    assert p.models == ("a", "z")
    assert (p.budget_usd, p.budget_period, p.tpm_limit) == (1.0, "day", 1000)
    assert p.sources == {"budget_usd": "user", "rpm_limit": "profile:std", "tpm_limit": "user"}


def test_no_profile_and_no_overrides_allows_nothing():
    p = effective(None, [], None)
    assert p.models == () and p.budget_usd is None and p.budget_period == "month"


def test_the_merge_reads_groups_from_the_database(sessions):
    with session_scope(sessions) as s:
        s.add(profile())
        s.add_all([UserGroup(user="ann", group="ml"), UserGroup(user="bob", group="ops")])
        s.add_all(
            [
                override("group", "ml", extra_models=["b"]),
                override("group", "ops", extra_models=["c"]),
                override("user", "ann", rpm_limit=5),
            ]
        )
    with session_scope(sessions) as s:
        ann = for_user(s, "ann", "std")
        bob = for_user(s, "bob", None)
    assert ann.models == ("a", "b") and ann.rpm_limit == 5
    assert bob.models == ("c",) and bob.profile is None


@pytest.mark.parametrize(
    "period, now, start, end",
    [
        ("day", "2026-11-26T15:30", "2026-11-26", "2026-11-27"),
        ("week", "2026-11-26T15:30", "2026-11-23", "2026-11-30"),  # a Thursday; weeks start Monday
        ("month", "2026-11-26T15:30", "2026-11-01", "2026-12-01"),
        ("month", "2026-12-31T23:59", "2026-12-01", "2027-01-01"),
        ("month", "2028-02-10T00:00", "2028-02-01", "2028-03-01"),  # leap year
    ],
)
def test_budget_periods_start_at_utc_midnight(period, now, start, end):
    got = period_bounds(period, dt.datetime.fromisoformat(now))
    assert got == (dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end))


def test_an_unknown_period_is_a_clear_error():
    with pytest.raises(ValueError, match="use one of day, week, month"):
        period_bounds("fortnight", dt.datetime(2026, 1, 1))


def test_a_users_profiles_are_those_open_to_their_groups_and_the_default_follows():
    """As the spawn form, KubeSpawner and the service pick them (rows or public forms)."""
    from hub_service.catalog import default_of, open_to, usable

    profiles = [
        {"slug": "cpu", "default": True, "groups": ["staff"]},
        {"slug": "course", "default": False, "groups": ["cs101", "cs102"]},
        {"slug": "open", "default": False, "groups": []},
    ]
    student = usable(profiles, ["cs101"], admin=False)
    assert [p["slug"] for p in student] == ["course", "open"]
    assert default_of(student)["slug"] == "course"  # the marked one is not theirs
    assert default_of(usable(profiles, ["staff"], admin=False))["slug"] == "cpu"
    assert [p["slug"] for p in usable(profiles, [], admin=True)] == ["cpu", "course", "open"]
    assert [p["slug"] for p in usable(profiles, [], admin=False)] == ["open"]
    assert not open_to(profiles[1], ["cs103"], admin=False)
    assert default_of([]) is None

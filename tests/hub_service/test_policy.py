"""The effective-policy merge (profile, then groups, then user, then teams) and which
budget binds."""

from __future__ import annotations

import datetime as dt

import pytest

from hub_service import windows
from hub_service.db import PolicyOverride, Profile, Team, TeamMember, UserGroup, session_scope
from hub_service.policy import TeamGrant, binding, effective, for_user, standings


def profile(**kw):
    base = dict(
        slug="std",
        display_name="Std",
        models=["a"],
        budgets=[{"window": "month", "usd": 10.0}],
        rpm_limit=60,
        tpm_limit=None,
    )
    return Profile(**{**base, **kw})


def override(kind, name, **kw):
    base = dict(extra_models=[], budgets=[], rpm_limit=None, tpm_limit=None)
    return PolicyOverride(kind=kind, name=name, **{**base, **kw})


def windows_of(policy):
    return {(b.window, b.source, b.cap): b.usd for b in policy.budgets}


def test_the_profile_alone_decides_when_nothing_overrides_it():
    p = effective(profile(), [], None)
    assert (p.models, p.rpm_limit, p.tpm_limit) == (("a",), 60, None)
    assert windows_of(p) == {("month", "profile:std", False): 10.0}


def test_groups_add_models_and_the_most_generous_group_budget_wins_per_window():
    groups = [
        override("group", "ml", extra_models=["b"], budgets=[{"window": "week", "usd": 50.0}]),
        override(
            "group",
            "interns",
            extra_models=["c", "a"],
            budgets=[{"window": "week", "usd": 5.0}, {"window": "day", "usd": 1.0}],
            rpm_limit=10,
        ),
    ]
    p = effective(profile(), groups, None)
    assert p.models == ("a", "c", "b")  # union, in layer order, no repeats
    # each window on its own: the profile's month stays, the groups' day and week join
    assert windows_of(p) == {
        ("day", "group:interns", False): 1.0,
        ("week", "group:ml", False): 50.0,
        ("month", "profile:std", False): 10.0,
    }
    assert p.rpm_limit == 10 and p.sources["rpm_limit"] == "group:interns"


def test_the_users_own_override_wins_over_groups_and_profile():
    groups = [override("group", "ml", budgets=[{"window": "week", "usd": 50.0}])]
    user = override(
        "user",
        "ann",
        extra_models=["z"],
        budgets=[{"window": "week", "usd": 1.0}, {"window": "month", "usd": 3.0}],
        tpm_limit=1000,
    )
    p = effective(profile(), groups, user)
    assert p.models == ("a", "z")
    assert windows_of(p) == {("week", "user", False): 1.0, ("month", "user", False): 3.0}
    assert p.sources == {"rpm_limit": "profile:std", "tpm_limit": "user"}


def test_no_profile_and_no_overrides_allows_nothing():
    p = effective(None, [], None)
    assert p.models == () and p.budgets == ()


NOW = dt.datetime(2026, 12, 3, 12, 0)
TERM = windows.Term(dt.datetime(2026, 9, 1, 7), dt.datetime(2026, 12, 18, 23))


def cs101(**kw):
    base = dict(
        name="cs101",
        models=("course-model",),
        budgets={"day": 0.01, "week": 0.02, "term": 0.5},
        caps={"week": 1.0},
        term=TERM,
        alert=0.5,
    )
    return TeamGrant(**{**base, **kw})


def test_a_team_adds_its_models_and_limits_only_during_its_term():
    during = effective(profile(), [], None, [cs101()], NOW)
    assert during.models == ("a", "course-model")
    assert windows_of(during) == {
        ("month", "profile:std", False): 10.0,
        ("day", "team:cs101", False): 0.01,
        ("week", "team:cs101", False): 0.02,
        ("term", "team:cs101", False): 0.5,
        ("week", "team:cs101", True): 1.0,
    }
    term = [b for b in during.budgets if b.window == "term"][0]
    assert term.bounds(NOW) == (TERM.starts_at, TERM.ends_at) and term.alert == 0.5
    assert during.idle_teams == {}

    for now, why in (
        (dt.datetime(2026, 12, 19), "Team 'cs101''s term ended at 2026-12-18T23:00:00Z."),
        (dt.datetime(2026, 8, 1), "Team 'cs101''s term starts at 2026-09-01T07:00:00Z."),
    ):
        idle = effective(profile(), [], None, [cs101()], now)
        assert idle.models == ("a",)
        assert windows_of(idle) == {("month", "profile:std", False): 10.0}
        assert idle.idle_teams == {"cs101": (("course-model",), why)}


def test_a_members_adjustment_replaces_the_teams_budget_for_that_window_only(sessions):
    with session_scope(sessions) as s:
        s.add(profile())
        s.add_all([UserGroup(user="bob", group="cs101"), UserGroup(user="carol", group="cs101")])
        s.add(
            Team(
                name="cs101",
                available_models=["course-model"],
                models=["course-model"],
                budgets=[{"window": "day", "usd": 0.01}, {"window": "week", "usd": 0.02}],
                caps=[{"window": "week", "usd": 1.0}],
                starts_at=TERM.starts_at,
                ends_at=TERM.ends_at,
                alert_percent=80,
            )
        )
        s.add(TeamMember(team="cs101", user="bob", budgets=[{"window": "day", "usd": 0.015}]))
    with session_scope(sessions) as s:
        bob = for_user(s, "bob", "std", NOW)
        carol = for_user(s, "carol", "std", NOW)
    assert windows_of(bob)[("day", "team:cs101", False)] == 0.015
    assert windows_of(carol)[("day", "team:cs101", False)] == 0.01
    assert windows_of(bob)[("week", "team:cs101", False)] == 0.02


def binding_of(spent: dict, budgets, now=NOW):
    stands = standings(budgets, now, lambda b, start, end: spent[b.window])
    return binding(stands)


def test_the_budget_that_binds_is_the_one_most_spent_and_of_equals_the_last_to_reset():
    p = effective(profile(), [], None, [cs101(caps={})], NOW)
    got = binding_of({"day": 0.005, "week": 0.015, "term": 0.1, "month": 1.0}, p.budgets)
    assert (got.budget.window, got.share) == ("week", pytest.approx(0.75))
    got = binding_of({"day": 0.01, "week": 0.02, "term": 0.1, "month": 1.0}, p.budgets)
    assert got.budget.window == "week"  # both spent: raising the day would not help
    assert binding_of({}, ()) is None


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

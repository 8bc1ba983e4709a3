"""Effective policy: what a server may call, how much it may spend, how fast.

The policy of a server is built in layers, each able to add or override:

1. its **profile**: the models it allows, budgets (USD per user per window), rpm/tpm;
2. the **groups** of its user (hub groups, mirrored by the service): each may add
   models and set budgets or limits;
3. the **user**: may add models and set budgets or limits;
4. the user's **teams** (hub groups whose team admins govern them, ``teams``), during
   their terms only: each adds the models its admins chose and *limits*: a budget per
   member (or that member's adjustment) and a cap on the members' total, per window.

Models are the union of all layers. Budgets come per window (``windows.WINDOWS``): for
each window, the user's own budget wins; failing that, the most generous of the groups'
budgets for that window; failing that, the profile's. Limits are of the same kind: the
user's own wins, then the most generous group's, then the profile's. The teams' limits
then apply on top: of all the budgets that apply, the lowest left binds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import windows
from .db import PolicyOverride, Profile, Team, TeamMember, UserGroup
from .numbers import money
from .usage import spent

PERIODS = windows.CALENDAR  # the windows a profile, group or user budget may name


@dataclass(frozen=True)
class Budget:
    """A limit on spend over a window: the user's own spend, or with ``cap`` the total
    of a team's members."""

    window: str
    usd: float
    source: str  # who set it: profile:<slug>, group:<name>, user, team:<name>
    team: str | None = None
    cap: bool = False
    term: tuple[dt.datetime, dt.datetime] | None = None  # a team's term
    alert: float | None = None  # the share of it that calls for a warning (a team's)

    def as_dict(self) -> dict:
        return {
            "window": self.window,
            "usd": self.usd,
            "source": self.source,
            "team": self.team,
            "cap": self.cap,
            "alert": self.alert,
        }

    def bounds(self, now: dt.datetime, tz=None) -> tuple[dt.datetime, dt.datetime]:
        return windows.bounds(self.window, now, tz, self.term)

    def spent_sentence(self, spent: float) -> str:
        """ "you have spent $0.01 of your $0.01 daily budget (team 'cs101')"."""
        kind = windows.ADJECTIVE[self.window]
        if self.cap:
            return (
                f"team {self.team!r} has spent {money(spent)} of its {money(self.usd)} {kind} cap"
            )
        team = f" (team {self.team!r})" if self.team else ""
        return f"you have spent {money(spent)} of your {money(self.usd)} {kind} budget{team}"

    def resets(self, end: dt.datetime) -> str:
        if self.window == "term":
            return f"The term ends at {windows.iso(end)}."
        return f"It resets at {windows.iso(end)}."


@dataclass(frozen=True)
class Standing:
    """A budget now: its window's bounds and the spend in it."""

    budget: Budget
    start: dt.datetime
    end: dt.datetime
    spent: float

    @property
    def share(self) -> float:
        return self.spent / self.budget.usd if self.budget.usd > 0 else float("inf")

    def as_dict(self) -> dict:
        return {
            **self.budget.as_dict(),
            "spend_usd": self.spent,
            "period_start": windows.iso(self.start),
            "resets_at": windows.iso(self.end),
        }


def standings(budgets, now: dt.datetime, spent, tz=None) -> list[Standing]:
    """Each budget with its window now and ``spent(budget, start, end)``."""
    out = []
    for b in budgets:
        start, end = b.bounds(now, tz)
        out.append(Standing(b, start, end, spent(b, start, end)))
    return out


def binding(stands: list[Standing]) -> Standing | None:
    """The budget that binds: the largest share spent; of equals, the one that resets
    last (raising an earlier one would not help)."""
    return max(stands, key=lambda s: (s.share, s.end), default=None)


@dataclass(frozen=True)
class Policy:
    profile: str | None
    models: tuple[str, ...]
    budgets: tuple[Budget, ...]
    rpm_limit: int | None
    tpm_limit: int | None
    # which layer decided each setting, for people reading the API
    sources: dict = field(default_factory=dict, compare=False)
    # the teams whose terms do not run now, with the sentence saying why (their models
    # are then not granted): name -> (models they would grant, why)
    idle_teams: dict = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["budgets"] = [b.as_dict() for b in self.budgets]
        out["idle_teams"] = {name: why for name, (_, why) in self.idle_teams.items()}
        return out


def windows_of(rows: Iterable[dict] | None) -> dict[str, float]:
    """A stored budget list (``[{"window": "day", "usd": 1.0}, ...]``) by window."""
    return {b["window"]: float(b["usd"]) for b in rows or []}


def _pick(user_value, group_values: Iterable, profile_value, names: tuple[str, str, str]):
    if user_value is not None:
        return user_value, names[0]
    group_values = [v for v in group_values if v[0] is not None]
    if group_values:
        value, group = max(group_values, key=lambda v: v[0])
        return value, f"group:{group}"
    return profile_value, names[2] if profile_value is not None else None


@dataclass(frozen=True)
class TeamGrant:
    """What one team gives one member: its models and its limits, during its term."""

    name: str
    models: tuple[str, ...]
    budgets: dict[str, float]  # per member, by window (the member's adjustment applied)
    caps: dict[str, float]  # the members' total, by window
    term: windows.Term | None
    alert: float | None = None


def team_grant(team: Team, adjustment: TeamMember | None) -> TeamGrant:
    budgets = windows_of(team.budgets)
    if adjustment is not None:
        budgets.update(windows_of(adjustment.budgets))
    term = windows.Term(team.starts_at, team.ends_at) if team.starts_at and team.ends_at else None
    return TeamGrant(
        team.name,
        tuple(team.models or []),
        budgets,
        windows_of(team.caps),
        term,
        (team.alert_percent or 80) / 100,
    )


def effective(
    profile: Profile | None,
    groups: Iterable[PolicyOverride],
    user: PolicyOverride | None,
    teams: Iterable[TeamGrant] = (),
    now: dt.datetime | None = None,
) -> Policy:
    groups = sorted(groups, key=lambda g: g.name)
    teams = sorted(teams, key=lambda t: t.name)
    models: list[str] = list(profile.models if profile else [])
    for layer in [*groups, *([user] if user else [])]:
        models += [m for m in layer.extra_models or [] if m not in models]
    sources: dict = {}
    slug = profile.slug if profile else None
    names = ("user", "group", f"profile:{slug}")

    def pick(attr: str):
        value, source = _pick(
            getattr(user, attr) if user else None,
            [(getattr(g, attr), g.name) for g in groups],
            getattr(profile, attr) if profile else None,
            names,
        )
        sources[attr] = source
        return value

    budgets: list[Budget] = []
    user_windows = windows_of(user.budgets) if user else {}
    group_windows = [(windows_of(g.budgets), g.name) for g in groups]
    profile_windows = windows_of(profile.budgets) if profile else {}
    for window in windows.CALENDAR:
        usd, source = _pick(
            user_windows.get(window),
            [(w.get(window), name) for w, name in group_windows],
            profile_windows.get(window),
            names,
        )
        if usd is not None:
            budgets.append(Budget(window, usd, source))
    idle: dict = {}
    for team in teams:
        why = team.term.why_not(team.name, now) if team.term and now else None
        if why:
            idle[team.name] = (team.models, why)
            continue
        models += [m for m in team.models if m not in models]
        term = (team.term.starts_at, team.term.ends_at) if team.term else None
        for cap, limits in ((False, team.budgets), (True, team.caps)):
            for window in windows.WINDOWS:
                if window in limits and (window != "term" or term):
                    source = f"team:{team.name}"
                    budgets.append(
                        Budget(window, limits[window], source, team.name, cap, term, team.alert)
                    )
    return Policy(
        profile=slug,
        models=tuple(models),
        budgets=tuple(budgets),
        rpm_limit=pick("rpm_limit"),
        tpm_limit=pick("tpm_limit"),
        sources=sources,
        idle_teams=idle,
    )


def teams_of(session: Session, user: str, group_names: Iterable[str]) -> list[TeamGrant]:
    """The team grants of ``user``, a member of ``group_names``."""
    group_names = list(group_names)
    if not group_names:
        return []
    teams = session.scalars(select(Team).where(Team.name.in_(group_names))).all()
    adjustments = {
        a.team: a
        for a in session.scalars(
            select(TeamMember).where(TeamMember.user == user, TeamMember.team.in_(group_names))
        )
    }
    return [team_grant(t, adjustments.get(t.name)) for t in teams]


def members(session: Session, team: str) -> list[str]:
    """The members of a team's hub group, as the service last copied them."""
    return list(session.scalars(select(UserGroup.user).where(UserGroup.group == team)))


def spend_standings(session: Session, user: str, eff: Policy, now: dt.datetime) -> list:
    """``user``'s standing against each of ``eff``'s budgets, from the database."""

    def spent_on(b: Budget, start, end) -> float:
        return spent(session, members(session, b.team) if b.cap else [user], start, end)

    return standings(eff.budgets, now, spent_on)


def for_user(
    session: Session,
    user: str,
    profile_slug: str | None,
    now: dt.datetime | None = None,
    *,
    profile: Profile | None = None,
) -> Policy:
    """The effective policy of ``user``'s server started with ``profile_slug`` (or with
    ``profile``, read already)."""
    if profile is None and profile_slug:
        profile = session.scalar(select(Profile).where(Profile.slug == profile_slug))
    group_names = session.scalars(select(UserGroup.group).where(UserGroup.user == user)).all()
    overrides = session.scalars(
        select(PolicyOverride).where(
            ((PolicyOverride.kind == "group") & PolicyOverride.name.in_(group_names))
            | ((PolicyOverride.kind == "user") & (PolicyOverride.name == user))
        )
    ).all()
    return effective(
        profile,
        [o for o in overrides if o.kind == "group"],
        next((o for o in overrides if o.kind == "user"), None),
        teams_of(session, user, group_names),
        now,
    )

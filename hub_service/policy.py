"""Effective policy: what a server may call, how much it may spend, how fast.

The policy of a server is built in three layers, each able to add or override:

1. its **profile**: the models it allows, a budget (USD per user per period), rpm/tpm;
2. the **groups** of its user (hub groups, mirrored by the service): each may add
   models and set a budget or limits;
3. the **user**: may add models and set a budget or limits.

Models are the union of all layers. For the budget and each limit, the user's own
setting wins; failing that, the most generous of the groups' settings; failing that,
the profile's. A budget brings its period along (default: month).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import PolicyOverride, Profile, UserGroup

PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class Policy:
    profile: str | None
    models: tuple[str, ...]
    budget_usd: float | None
    budget_period: str
    rpm_limit: int | None
    tpm_limit: int | None
    # which layer decided each setting, for people reading the API
    sources: dict = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        return asdict(self)


def _pick(user_value, group_values: Iterable, profile_value, names: tuple[str, str, str]):
    if user_value is not None:
        return user_value, names[0]
    group_values = [v for v in group_values if v[0] is not None]
    if group_values:
        value, group = max(group_values, key=lambda v: v[0])
        return value, f"group:{group}"
    return profile_value, names[2] if profile_value is not None else None


def effective(
    profile: Profile | None,
    groups: Iterable[PolicyOverride],
    user: PolicyOverride | None,
) -> Policy:
    groups = sorted(groups, key=lambda g: g.name)
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

    budget = pick("budget_usd")
    period_source = sources["budget_usd"]
    if period_source == "user":
        period = user.budget_period
    elif period_source and period_source.startswith("group:"):
        period = next(g for g in groups if g.name == period_source[6:]).budget_period
    else:
        period = profile.budget_period if profile else None
    return Policy(
        profile=slug,
        models=tuple(models),
        budget_usd=budget,
        budget_period=period or "month",
        rpm_limit=pick("rpm_limit"),
        tpm_limit=pick("tpm_limit"),
        sources=sources,
    )


def for_user(session: Session, user: str, profile_slug: str | None) -> Policy:
    """The effective policy of ``user``'s server started with ``profile_slug``."""
    profile = (
        session.scalar(select(Profile).where(Profile.slug == profile_slug))
        if profile_slug
        else None
    )
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
    )


def period_bounds(period: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the budget period containing ``now`` (UTC): days start at
    midnight, weeks on Monday, months on the 1st."""
    day = dt.datetime(now.year, now.month, now.day)
    if period == "day":
        return day, day + dt.timedelta(days=1)
    if period == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        days = calendar.monthrange(start.year, start.month)[1]
        return start, start + dt.timedelta(days=days)
    raise ValueError(f"unknown budget period {period!r}: use one of {', '.join(PERIODS)}")

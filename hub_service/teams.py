"""Teams: hub groups that their own team admins govern (``api/v1/teams/...``).

A hub admin makes a hub group a team (``PUT admin/teams/{group}``) and names the models
its team admins may choose among (``available_models``). Who administers a team is the
hub's to say, with its own roles: a role holding ``custom:maas:team-admin!group=cs101``
makes its bearers admins of ``cs101`` (``hub_config.team_roles`` gives it to the hub group
``cs101-admins``, whose members the hub admin then edits in the hub). The scope without
a filter, and the MaaS admin scope, cover every team.

A team admin sets, for the team (``PATCH teams/{group}``): the models its members may use
(among the available ones), a budget per member for any of the windows hour, day, week,
month and term, a cap on the members' total per window, the term (``starts_at``,
``ends_at``: outside it the team grants nothing) and the share at which members are
warned (``alert_percent``); gives a member their own budgets within the cap
(``PUT teams/{group}/members/{user}``, audited); reads the roster with each member's
spend per window, requests, last use and top notebooks (never what anyone wrote: the
service stores no prompt or answer), the team's spend by day and model, a CSV of the
roster; and revokes a member's keys. Team admins see and change nothing else.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from . import catalog, keys, policy, usage, windows
from .admin import AdminHandler, audit_view
from .db import ApiKey, AuditEntry, CatalogModel, Team, TeamMember
from .hub_config import TEAM_ADMIN_SCOPE
from .metrics import ADMIN_SCOPE
from .validation import TEAM_FIELDS, TEAM_MEMBER_FIELDS, TEAM_SETTINGS_FIELDS
from .web import APIError, APIHandler

GROUP = r"(?P<group>[^/]+)"
USER = r"(?P<user>[^/]+)"
TOP_NOTEBOOKS = 3


def administered(model: dict) -> set[str] | None:
    """The teams the caller administers; None: every team (a MaaS admin, or the team
    admin scope without a filter). Filters other than ``group=`` grant nothing here."""
    if model.get("kind", "user") != "user":
        return set()
    scopes = model.get("scopes") or []
    if ADMIN_SCOPE in scopes:
        return None
    teams: set[str] = set()
    for scope in scopes:
        base, _, selector = scope.partition("!")
        if base != TEAM_ADMIN_SCOPE:
            continue
        if not selector:
            return None
        kind, _, name = selector.partition("=")
        if kind == "group" and name:
            teams.add(name)
    return teams


def idle(db, now: dt.datetime) -> dict[str, str]:
    """The teams outside their terms now, each with the sentence saying so."""
    out = {}
    for team in db.scalars(select(Team).where(Team.starts_at.is_not(None))):
        if team.ends_at is not None:
            why = windows.Term(team.starts_at, team.ends_at).why_not(team.name, now)
            if why:
                out[team.name] = why
    return out


def team_view(team: Team, now: dt.datetime) -> dict:
    term = windows.Term(team.starts_at, team.ends_at) if team.starts_at and team.ends_at else None
    return {
        "name": team.name,
        "available_models": team.available_models or [],
        "models": team.models or [],
        "budgets": team.budgets or [],
        "caps": team.caps or [],
        "starts_at": keys.iso(team.starts_at) if team.starts_at else None,
        "ends_at": keys.iso(team.ends_at) if team.ends_at else None,
        "alert_percent": team.alert_percent,
        "term_state": term.state(now) if term else None,
        "idle_because": term.why_not(team.name, now) if term else None,
    }


def member_view(member: TeamMember) -> dict:
    return {
        "team": member.team,
        "user": member.user,
        "budgets": member.budgets,
        "note": member.note,
    }


class TeamHandler(APIHandler):
    """A team's admins (and MaaS admins) only; every change is audited."""

    def team(self, db, group: str) -> Team:
        """The team ``group`` if the caller administers it: 403 if not (before saying
        whether it exists), 404 if it is no team."""
        mine = administered(self.current_user)
        if mine is not None and group not in mine:
            yours = ", ".join(sorted(mine)) or "none"
            raise APIError(403, f"You are not an admin of team {group!r} (your teams: {yours}).")
        row = db.get(Team, group)
        if row is None:
            raise APIError(
                404, f"There is no team {group!r}: a MaaS admin makes a hub group a team."
            )
        return row

    def members(self, db, group: str) -> list[str]:
        return sorted(policy.members(db, group))

    def member(self, db, group: str, user: str) -> None:
        if user not in self.members(db, group):
            raise APIError(404, f"{user!r} is not a member of the hub group {group!r}.")


class TeamsHandler(APIHandler):
    """GET: the teams you administer (every team for a MaaS admin)."""

    def get(self):
        mine = administered(self.current_user)
        with self.db as db:
            query = select(Team).order_by(Team.name)
            if mine is not None:
                query = query.where(Team.name.in_(sorted(mine)))
            now = self.now()
            self.write_json({"teams": [team_view(t, now) for t in db.scalars(query)]})


class AdminTeamHandler(AdminHandler):
    """PUT ``{"available_models": [...]}``: make the hub group a team, or change the
    models its admins may choose among (its members' models are trimmed to them);
    DELETE: the group is no team any more (its settings and adjustments go). MaaS
    admins only."""

    def put(self, group):
        fields = self.checked(TEAM_FIELDS)
        available = fields.get("available_models", [])
        with self.db as db:
            known = set(db.scalars(select(CatalogModel.name)))
            unknown = [m for m in available if m != catalog.ALL_MODELS and m not in known]
            if unknown:
                raise APIError(400, f"Unknown models {unknown}: add them to the catalog first.")
            row = db.get(Team, group)
            before = team_view(row, self.now()) if row else None
            if row is None:
                row = Team(name=group, models=[], budgets=[], caps=[], alert_percent=80)
                db.add(row)
            row.available_models = available
            row.models = [m for m in row.models or [] if catalog.entitled(available, m)]
            db.flush()
            after = team_view(row, self.now())
            self.audit(db, "update" if before else "create", "team", group, before, after)
        self.write_json(after, status=200 if before else 201)

    def delete(self, group):
        with self.db as db:
            row = db.get(Team, group)
            if row is None:
                raise APIError(404, f"There is no team {group!r}.")
            self.audit(db, "delete", "team", group, team_view(row, self.now()), None)
            for member in db.scalars(select(TeamMember).where(TeamMember.team == group)):
                db.delete(member)
            db.delete(row)
        self.set_status(204)
        self.finish()


class TeamSettingsHandler(TeamHandler):
    """GET: the team's settings; PATCH any of ``models``, ``budgets`` (per member),
    ``caps`` (the members' total), ``starts_at``, ``ends_at``, ``alert_percent``."""

    def get(self, group):
        with self.db as db:
            self.write_json(team_view(self.team(db, group), self.now()))

    def patch(self, group):
        with self.db as db:
            row = self.team(db, group)
            fields = self.checked(TEAM_SETTINGS_FIELDS, partial=True)
            outside = [
                m
                for m in fields.get("models", [])
                if not catalog.entitled(row.available_models or [], m)
            ]
            if outside:
                offered = ", ".join(row.available_models or []) or "none"
                raise APIError(
                    400,
                    f"Models {outside} are not available to team {group!r}; "
                    f"a MaaS admin made these available: {offered}.",
                )
            if not 1 <= fields.get("alert_percent", 80) <= 100:
                raise APIError(400, "alert_percent must be a whole number from 1 to 100.")
            starts = fields.get("starts_at", row.starts_at)
            ends = fields.get("ends_at", row.ends_at)
            if (starts is None) != (ends is None) or (starts and ends and starts >= ends):
                raise APIError(400, "A term needs both starts_at and ends_at, in that order.")
            budgets = fields.get("budgets", row.budgets or [])
            caps = fields.get("caps", row.caps or [])
            if not starts and any(b["window"] == "term" for b in [*budgets, *caps]):
                raise APIError(
                    400, "A budget for the term needs the term: set starts_at and ends_at."
                )
            before = team_view(row, self.now())
            for name, value in fields.items():
                setattr(row, name, value)
            db.flush()
            after = team_view(row, self.now())
            self.audit(db, "update", "team", group, before, after)
        self.write_json(after)


def _spend_by_member(db, names: list[str], start: dt.datetime, end: dt.datetime | None) -> dict:
    """Each member's spend in [start, end) (None: unbounded)."""
    w = usage.requests(db, start, end).c
    query = select(w.user, func.sum(w.cost_usd)).where(w.user.in_(names)).group_by(w.user)
    return {user: float(cost) for user, cost in db.execute(query)}


def _roster(db, team: Team, names: list[str], now: dt.datetime) -> list[dict]:
    """Each member's spend per window of the team's budgets (their adjustment applied),
    requests, last use and top notebooks: never what they wrote. One read of the usage
    since the oldest window's start, grouped by member and notebook, gives the totals,
    the notebooks and the spend of the windows that start then (less what comes after
    their end, usually nothing); a shorter read per other window. Each is grouped by
    member, whatever the team's size."""
    adjustments = {
        m.user: m for m in db.scalars(select(TeamMember).where(TeamMember.team == team.name))
    }
    grants = {name: policy.team_grant(team, adjustments.get(name)) for name in names}
    term = (team.starts_at, team.ends_at) if team.starts_at and team.ends_at else None
    since = min(
        [windows.earliest_start(now), *([term[0]] if term else [])],
    )
    r = usage.requests(db, since).c
    totals: dict[str, tuple[int, dt.datetime | None]] = {}
    spent: dict[str, float] = {}  # since ``since``
    notebooks: dict[str, list] = {}
    for user, path, n, last, cost in db.execute(
        select(
            r.user, r.notebook_path, func.sum(r.requests), func.max(r.last_at), func.sum(r.cost_usd)
        )
        .where(r.user.in_(names))
        .group_by(r.user, r.notebook_path)
    ):
        requests, latest = totals.get(user, (0, None))
        totals[user] = (requests + int(n), max(filter(None, (latest, last)), default=None))
        spent[user] = spent.get(user, 0.0) + float(cost)
        if path is not None:
            notebooks.setdefault(user, []).append({"notebook_path": path, "cost_usd": float(cost)})
    spend: dict[str, dict[str, float]] = {}  # window -> member -> spend in it
    bounds: dict[str, tuple] = {}
    for window in {w for g in grants.values() for w in g.budgets}:
        if window == "term" and not term:
            continue
        start, end = bounds[window] = windows.bounds(window, now, term=term)
        if start == since:
            later = _spend_by_member(db, names, end, None)
            spend[window] = {u: c - later[u] if u in later else c for u, c in spent.items()}
        else:
            spend[window] = _spend_by_member(db, names, start, end)
    rows = []
    for name in names:
        requests, last = totals.get(name, (0, None))
        adjusted = adjustments.get(name)
        top = sorted(notebooks.get(name, []), key=lambda n: (-n["cost_usd"], n["notebook_path"]))
        rows.append(
            {
                "user": name,
                "budgets": [
                    {
                        "window": window,
                        "usd": usd,
                        "spend_usd": spend[window].get(name, 0.0),
                        "resets_at": windows.iso(bounds[window][1]),
                    }
                    for window, usd in grants[name].budgets.items()
                    if window in spend
                ],
                "requests": requests,
                "last_used": keys.iso(last) if last else None,
                "top_notebooks": top[:TOP_NOTEBOOKS],
                "adjustment": member_view(adjusted) if adjusted else None,
            }
        )
    return rows


ROSTER_CSV = ("user", "window", "usd", "spend_usd", "resets_at", "requests", "last_used")


class TeamMembersHandler(TeamHandler):
    """GET: the roster, from the hub group: each member's spend per window, requests and
    last use (since the oldest running window), top notebooks and adjustment;
    ``format=csv``: one line per member and window."""

    def get(self, group):
        fmt = self.get_argument("format", "json")
        if fmt not in ("json", "csv"):
            raise APIError(400, "format must be json or csv.")
        now = self.now()
        with self.db as db:
            team = self.team(db, group)
            roster = _roster(db, team, self.members(db, group), now)
        if fmt == "json":
            self.write_json({"team": group, "members": roster})
            return
        lines = [
            {
                "user": m["user"],
                "requests": m["requests"],
                "last_used": m["last_used"] or "",
                **{k: b[k] for k in ("window", "usd", "spend_usd", "resets_at")},
            }
            for m in roster
            for b in m["budgets"] or [{"window": "", "usd": "", "spend_usd": "", "resets_at": ""}]
        ]
        self.write_csv(list(ROSTER_CSV), lines, f"maas-team-{group}-{now.date()}.csv")


class TeamMemberHandler(TeamHandler):
    """PUT ``{"budgets": [...], "note": "..."}``: a member's own budgets in the team (for
    the windows named; the team's for the others), each within the team's cap for that
    window; DELETE: back to the team's budgets. Audited."""

    def put(self, group, user):
        with self.db as db:
            team = self.team(db, group)
            self.member(db, group, user)
            fields = self.checked(TEAM_MEMBER_FIELDS)
            caps = policy.windows_of(team.caps)
            over = [b for b in fields["budgets"] if b["usd"] > caps.get(b["window"], float("inf"))]
            if over:
                b = over[0]
                raise APIError(
                    400,
                    f"{user}'s {b['window']} budget of ${b['usd']:g} is over the team's "
                    f"{b['window']} cap of ${caps[b['window']]:g}: raise the cap first.",
                )
            row = db.get(TeamMember, (group, user))
            before = member_view(row) if row else None
            if row is None:
                row = TeamMember(team=group, user=user)
                db.add(row)
            row.budgets = fields["budgets"]
            row.note = fields.get("note", "")
            db.flush()
            after = member_view(row)
            self.audit(
                db,
                "update" if before else "create",
                "team-member",
                f"{group}/{user}",
                before,
                after,
            )
        self.write_json(after, status=200 if before else 201)

    def delete(self, group, user):
        with self.db as db:
            self.team(db, group)
            row = db.get(TeamMember, (group, user))
            if row is None:
                raise APIError(404, f"{user!r} has no budgets of their own in team {group!r}.")
            self.audit(db, "delete", "team-member", f"{group}/{user}", member_view(row), None)
            db.delete(row)
        self.set_status(204)
        self.finish()


class TeamMemberKeysHandler(TeamHandler):
    """DELETE: revoke every key of a member (their servers' keys are issued anew when
    the servers start again). Audited."""

    def delete(self, group, user):
        with self.db as db:
            self.team(db, group)
            self.member(db, group, user)
            actor = self.current_user["name"]
            n = keys.revoke_where(
                db, (ApiKey.user == user,), reason=f"revoked by team admin {actor}", now=self.now()
            )
            self.audit(db, "revoke", "team-member", f"{group}/{user}", None, {"keys_revoked": n})
        self.write_json({"revoked": n})


class TeamUsageHandler(TeamHandler):
    """GET ``?days=N`` (1-366, default 30): the members' spend and requests by day and
    model."""

    def get(self, group):
        try:
            days = int(self.get_argument("days", "30"))
        except ValueError:
            days = 0
        if not 1 <= days <= 366:
            raise APIError(400, "days must be a whole number from 1 to 366.")
        since = self.now() - dt.timedelta(days=days)
        with self.db as db:
            self.team(db, group)
            names = self.members(db, group)
            r = usage.requests(db, since).c
            day = func.date(r.ts)
            rows = db.execute(
                select(day, r.model, func.sum(r.requests), func.sum(r.cost_usd))
                .where(r.user.in_(names))
                .group_by(day, r.model)
                .order_by(day, r.model)
            ).all()
        self.write_json(
            {
                "team": group,
                "days": days,
                "by_day": [
                    {"day": str(d)[:10], "model": m, "requests": int(n), "cost_usd": float(c)}
                    for d, m, n, c in rows
                ],
            }
        )


class TeamAuditHandler(TeamHandler):
    """GET: the changes made to the team and its members' budgets, newest first."""

    def get(self, group):
        with self.db as db:
            self.team(db, group)
            entries = db.scalars(
                select(AuditEntry)
                .where(
                    ((AuditEntry.target_type == "team") & (AuditEntry.target == group))
                    | (
                        (AuditEntry.target_type == "team-member")
                        & AuditEntry.target.startswith(f"{group}/", autoescape=True)
                    )
                )
                .order_by(AuditEntry.id.desc())
                .limit(200)
            ).all()
            self.write_json({"entries": [audit_view(e) for e in entries]})


TEAM_ROUTES = [
    (r"teams", TeamsHandler),
    (rf"admin/teams/{GROUP}", AdminTeamHandler),
    (rf"teams/{GROUP}", TeamSettingsHandler),
    (rf"teams/{GROUP}/members", TeamMembersHandler),
    (rf"teams/{GROUP}/members/{USER}", TeamMemberHandler),
    (rf"teams/{GROUP}/members/{USER}/keys", TeamMemberKeysHandler),
    (rf"teams/{GROUP}/usage", TeamUsageHandler),
    (rf"teams/{GROUP}/audit", TeamAuditHandler),
]

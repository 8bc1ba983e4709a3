"""Admin endpoints (``api/v1/admin/...``): the catalog, profiles, group and user
overrides, every user's keys, effective policies, the audit log and chargeback.

Callers need the ``custom:maas:admin`` scope (the hub config grants it to hub admins
through the ``maas-admin`` role); everyone else gets 403. Every change is written to the
audit log with its before and after.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from . import catalog, keys, policy, pricing, usage
from .db import ApiKey, AuditEntry, CatalogModel, PolicyOverride, Profile, UserGroup
from .metrics import ADMIN_SCOPE
from .validation import (
    MODEL_FIELDS,
    OVERRIDE_FIELDS,
    PROFILE_FIELDS,
    SEED_PRICING_FIELDS,
)
from .web import KEY_ID, MODEL_NAME, APIError, APIHandler


def is_admin(model: dict) -> bool:
    """A MaaS admin: a user holding the MaaS admin scope."""
    return model.get("kind", "user") == "user" and ADMIN_SCOPE in (model.get("scopes") or [])


def audit_view(e: AuditEntry) -> dict:
    """An audit entry as the API answers it."""
    return {
        "ts": keys.iso(e.ts),
        "actor": e.actor,
        "action": e.action,
        "target_type": e.target_type,
        "target": e.target,
        "before": e.before,
        "after": e.after,
    }


def model_admin(m: CatalogModel) -> dict:
    """Everything about a model an admin may see (a backend key only by its
    variable's name: the secret itself never enters the database)."""
    return {
        **catalog.model_public(m),
        "provider_model": m.provider_model,
        "api_base": m.api_base,
        "api_key_env": m.api_key_env,
        "extra_params": m.extra_params,
        "created": keys.iso(m.created),
        "updated": keys.iso(m.updated),
    }


def override_view(o: PolicyOverride) -> dict:
    return {
        "kind": o.kind,
        "name": o.name,
        "extra_models": o.extra_models,
        "budgets": o.budgets or [],
        "rpm_limit": o.rpm_limit,
        "tpm_limit": o.tpm_limit,
    }


def _profile_columns(fields: dict) -> dict:
    if "default" in fields:
        fields["is_default"] = fields.pop("default")
    return fields


class AdminHandler(APIHandler):
    """Admins only; every change is audited."""

    def authorize(self):
        super().authorize()
        if not is_admin(self.current_user):
            raise APIError(
                403, f"Only MaaS admins may do this (the {ADMIN_SCOPE} scope is needed)."
            )

    def _known_models(self, db, names: list[str]) -> None:
        known = set(db.scalars(select(CatalogModel.name)))
        unknown = [n for n in names if n != catalog.ALL_MODELS and n not in known]
        if unknown:
            raise APIError(400, f"Unknown models {unknown}: add them to the catalog first.")


class AdminModelsHandler(AdminHandler):
    """GET: every catalog model, disabled ones included, with backend details.
    POST: add a model (name, provider_model required; see the Model schema)."""

    def get(self):
        with self.db as db:
            rows = db.scalars(select(CatalogModel).order_by(CatalogModel.name)).all()
            self.write_json({"models": [model_admin(m) for m in rows]})

    async def post(self):
        # in a thread: checking api_base may wait on the name server
        fields = await asyncio.to_thread(self.checked, MODEL_FIELDS)
        with self.db as db:
            if db.scalar(select(CatalogModel).where(CatalogModel.name == fields["name"])):
                raise APIError(409, f"A model named {fields['name']!r} exists: edit it instead.")
            row = CatalogModel(**fields)
            db.add(row)
            db.flush()
            view = model_admin(row)
            self.audit(db, "create", "model", row.name, None, view)
        self.write_json(view, status=201)


class AdminModelHandler(AdminHandler):
    """GET one model; PATCH some of its fields (``{"enabled": false}`` disables it);
    DELETE it (its usage history stays)."""

    def _get(self, db, name) -> CatalogModel:
        row = db.scalar(select(CatalogModel).where(CatalogModel.name == name))
        if row is None:
            raise APIError(404, f"No model named {name!r}.")
        return row

    def get(self, name):
        with self.db as db:
            self.write_json(model_admin(self._get(db, name)))

    async def patch(self, name):
        fields = await asyncio.to_thread(self.checked, MODEL_FIELDS, partial=True)
        with self.db as db:
            row = self._get(db, name)
            before = model_admin(row)
            if "name" in fields and fields["name"] != name:
                if db.scalar(select(CatalogModel).where(CatalogModel.name == fields["name"])):
                    raise APIError(409, f"A model named {fields['name']!r} exists.")
            for k, v in fields.items():
                setattr(row, k, v)
            row.updated = self.now()
            db.flush()
            after = model_admin(row)
            self.audit(db, "update", "model", name, before, after)
        self.write_json(after)

    def delete(self, name):
        with self.db as db:
            row = self._get(db, name)
            self.audit(db, "delete", "model", name, model_admin(row), None)
            db.delete(row)
        self.set_status(204)
        self.finish()


class AdminProfilesHandler(AdminHandler):
    """GET: every profile. POST: add one (slug, display_name required)."""

    def get(self):
        with self.db as db:
            rows = db.scalars(select(Profile).order_by(Profile.id)).all()
            self.write_json({"profiles": [catalog.profile_public(p) for p in rows]})

    def post(self):
        fields = _profile_columns(self.checked(PROFILE_FIELDS))
        with self.db as db:
            if db.scalar(select(Profile).where(Profile.slug == fields["slug"])):
                raise APIError(409, f"A profile {fields['slug']!r} exists: edit it instead.")
            self._known_models(db, fields.get("models", []))
            if fields.get("is_default"):
                for p in db.scalars(select(Profile)):
                    p.is_default = False
            row = Profile(**fields)
            db.add(row)
            db.flush()
            view = catalog.profile_public(row)
            self.audit(db, "create", "profile", row.slug, None, view)
        self.write_json(view, status=201)


class AdminProfileHandler(AdminHandler):
    """GET one profile; PATCH some of its fields; DELETE it."""

    def _get(self, db, slug) -> Profile:
        row = db.scalar(select(Profile).where(Profile.slug == slug))
        if row is None:
            raise APIError(404, f"No profile {slug!r}.")
        return row

    def get(self, slug):
        with self.db as db:
            self.write_json(catalog.profile_public(self._get(db, slug)))

    def patch(self, slug):
        fields = _profile_columns(self.checked(PROFILE_FIELDS, partial=True))
        if fields.get("slug", slug) != slug:
            raise APIError(
                400,
                "A profile's slug cannot change (running servers and their keys carry it): "
                "create a profile with the new slug instead.",
            )
        with self.db as db:
            row = self._get(db, slug)
            before = catalog.profile_public(row)
            if "models" in fields:
                self._known_models(db, fields["models"])
            if fields.get("is_default"):
                for p in db.scalars(select(Profile).where(Profile.id != row.id)):
                    p.is_default = False
            for k, v in fields.items():
                setattr(row, k, v)
            db.flush()
            after = catalog.profile_public(row)
            self.audit(db, "update", "profile", slug, before, after)
        self.write_json(after)

    def delete(self, slug):
        with self.db as db:
            row = self._get(db, slug)
            self.audit(db, "delete", "profile", slug, catalog.profile_public(row), None)
            db.delete(row)
        self.set_status(204)
        self.finish()


class AdminOverridesHandler(AdminHandler):
    """GET: every group and user override."""

    def get(self):
        with self.db as db:
            rows = db.scalars(
                select(PolicyOverride).order_by(PolicyOverride.kind, PolicyOverride.name)
            ).all()
            self.write_json({"overrides": [override_view(o) for o in rows]})


class AdminOverrideHandler(AdminHandler):
    """GET, PUT (replace) or DELETE the override of one hub group or user:
    ``{"extra_models": [...], "budgets": [{"window": "day", "usd": 5}, {"window":
    "month", "usd": 50}], "rpm_limit": 60, "tpm_limit": 100000}`` (all optional)."""

    def _find(self, db, kind, name):
        return db.scalar(
            select(PolicyOverride).where(PolicyOverride.kind == kind, PolicyOverride.name == name)
        )

    def get(self, kind, name):
        with self.db as db:
            row = self._find(db, kind, name)
            if row is None:
                raise APIError(404, f"No override for {kind} {name!r}.")
            self.write_json(override_view(row))

    def put(self, kind, name):
        fields = self.checked(OVERRIDE_FIELDS, partial=True)
        with self.db as db:
            self._known_models(db, fields.get("extra_models", []))
            row = self._find(db, kind, name)
            before = override_view(row) if row else None
            if row is None:
                row = PolicyOverride(kind=kind, name=name)
                db.add(row)
            for attr in OVERRIDE_FIELDS:
                empty = [] if attr in ("extra_models", "budgets") else None
                setattr(row, attr, fields.get(attr, empty))
            db.flush()
            after = override_view(row)
            self.audit(db, "update" if before else "create", kind, name, before, after)
        self.write_json(after, status=200 if before else 201)

    def delete(self, kind, name):
        with self.db as db:
            row = self._find(db, kind, name)
            if row is None:
                raise APIError(404, f"No override for {kind} {name!r}.")
            self.audit(db, "delete", kind, name, override_view(row), None)
            db.delete(row)
        self.set_status(204)
        self.finish()


def _policy_answer(handler: APIHandler, user: str, own: bool) -> None:
    """``user``'s effective policy with the profile of the ``profile`` argument, or with
    their default; ``own``: the caller asks of themselves, for a profile open to them."""
    slug = handler.get_argument("profile", None)
    with handler.db as db:
        if own:
            slug = handler.own_profile(db, slug, "have the policy of").slug
        elif slug is None:
            groups = db.scalars(select(UserGroup.group).where(UserGroup.user == user)).all()
            default = catalog.default_of(catalog.profiles_for(db, groups, False))
            slug = default.slug if default else None
        elif db.scalar(select(Profile).where(Profile.slug == slug)) is None:
            raise APIError(404, f"No profile {slug!r}.")
        eff = policy.for_user(db, user, slug, handler.now())
        groups = db.scalars(select(UserGroup.group).where(UserGroup.user == user)).all()
        answer = {
            "user": user,
            "groups": sorted(groups),
            **eff.as_dict(),
            "allowed_models": catalog.granted(db, eff.models),
        }
        stands = policy.spend_standings(db, user, eff, handler.now())
        answer["budgets"] = [s.as_dict() for s in stands]
        bound = policy.binding(stands)
        # the budget that binds, as the fields of a single budget (JupyterLab's status
        # bar and the portal show it)
        answer.update(
            budget_usd=bound.budget.usd if bound else None,
            budget_period=bound.budget.window if bound else None,
        )
        if bound is not None:
            answer.update(
                period_start=keys.iso(bound.start),
                resets_at=keys.iso(bound.end),
                spend_usd=bound.spent,
                binding=bound.as_dict(),
            )
    handler.write_json(answer)


class AdminPolicyHandler(AdminHandler):
    """GET ``?profile=<slug>``: a user's effective policy (profile, then groups, then
    user), which layer set what, and this period's spend; without a profile, that of
    their default profile (the first open to their groups, as the service last copied
    them from the hub)."""

    def get(self, user):
        _policy_answer(self, user, own=False)


class UserPolicyHandler(APIHandler):
    """GET ``?profile=<slug>``: your effective policy and this period's spend, with a
    profile open to your hub groups (403 for another), or with your default profile."""

    def get(self, user):
        self.check_owner(user)
        _policy_answer(self, user, own=True)


class AdminAuditHandler(AdminHandler):
    """GET ``?limit=100&actor=admin&action=update&target_type=model&target=smollm2-135m
    &since=2026-11-01``: admin changes, newest first (each filter optional)."""

    def get(self):
        try:
            limit = int(self.get_argument("limit", "100"))
        except ValueError:
            raise APIError(400, "limit must be a whole number.") from None
        limit = max(1, min(limit, 1000))
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        for name in AUDIT_FILTERS:
            value = self.get_argument(name, None)
            if value:
                query = query.where(getattr(AuditEntry, name) == value)
        if self.get_argument("since", None):
            query = query.where(AuditEntry.ts >= _parse_time(self, "since", self.now()))
        with self.db as db:
            rows = db.scalars(query).all()
            self.write_json({"entries": [audit_view(e) for e in rows]})


class AdminKeysHandler(AdminHandler):
    """GET ``?user=<name>&state=active|revoked|expired&limit=1000``: every user's keys,
    newest first (metadata only: never a key or its hash), deleted hub users' included."""

    def get(self):
        state = self.get_argument("state", None)
        if state is not None and state not in keys.KEY_STATES:
            raise APIError(400, f"state must be one of: {', '.join(keys.KEY_STATES)}.")
        try:
            limit = int(self.get_argument("limit", "1000"))
        except ValueError:
            raise APIError(400, "limit must be a whole number.") from None
        now = self.now()
        query = (
            select(ApiKey)
            .where(ApiKey.parent_id.is_(None))  # kernels' keys: their server key's
            .order_by(ApiKey.created.desc())
            .limit(max(1, min(limit, 10000)))
        )
        user = self.get_argument("user", None)
        if user:
            query = query.where(ApiKey.user == user)
        if state:
            query = query.where(*keys.in_state(state, now))
        with self.db as db:
            rows = db.scalars(query).all()
            self.write_json({"keys": [keys.key_admin(r, now) for r in rows]})


class AdminKeyHandler(AdminHandler):
    """DELETE: revoke any user's key (audited; a revoked key stays revoked)."""

    def delete(self, key_id):
        now = self.now()
        with self.db as db:
            row = db.get(ApiKey, key_id)
            if row is None:
                raise APIError(404, f"No key {key_id!r}.")
            if row.revoked_at is None:
                before = keys.key_admin(row, now)
                row.revoked_at = now
                row.revoked_reason = f"revoked by admin {self.current_user['name']}"
                db.flush()
                self.audit(db, "revoke", "key", key_id, before, keys.key_admin(row, now))
        self.set_status(204)
        self.finish()


# the audit log's columns a GET may filter on, by equality
AUDIT_FILTERS = ("actor", "action", "target_type", "target")
CHARGEBACK_DIMENSIONS = ("user", "group", "profile", "model", "notebook")


def _parse_time(handler, name: str, default: dt.datetime | None) -> dt.datetime | None:
    value = handler.get_argument(name, None)
    if value is None:
        return default
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise APIError(400, f"{name} must be an ISO date or time, e.g. 2026-11-01.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def _chargeback(db, by: str, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Requests, tokens and spend in [start, end) per ``by`` (a CHARGEBACK_DIMENSIONS),
    the largest spend first."""
    u = usage.requests(db, start, end).c
    if by == "group":  # summed per user first, then counted in each of their groups
        per_user = select(u.user, *(s.label(f"s{i}") for i, s in enumerate(usage.spend_columns(u))))
        per_user = per_user.group_by(u.user).subquery()
        columns = [func.coalesce(UserGroup.group, "(none)")]
        sums = [func.sum(c) for c in list(per_user.c)[1:]]
        query = select(*columns, *sums).outerjoin(UserGroup, UserGroup.user == per_user.c.user)
    else:
        # a user's notebook is "alice:analysis/churn.ipynb": grouped by the two columns,
        # joined here (a string built per row would be grouped row by row)
        columns = [u.user, u.notebook_path] if by == "notebook" else [getattr(u, by)]
        sums = usage.spend_columns(u)
        query = select(*columns, *sums)
    rows = [
        {
            by: ":".join(k or "(none)" for k in key),
            "requests": int(n),
            "prompt_tokens": int(p),
            "completion_tokens": int(c),
            "cost_usd": round(float(cost), 10),
        }
        for *key, n, p, c, cost in db.execute(query.group_by(*columns)).all()
    ]
    return sorted(rows, key=lambda row: (-row["cost_usd"], row[by]))


class AdminChargebackHandler(AdminHandler):
    """GET ``?by=user|group|profile|model|notebook&start=2026-11-01&end=2026-12-01``
    ``&format=json|csv``: requests, tokens and spend per user, hub group, profile, model
    or notebook (a user's notebook, ``alice:analysis/churn.ipynb``) over [start, end)
    (default: the last 30 days). A user in two groups counts in both; users in none
    count under ``(none)``."""

    def get(self):
        by = self.get_argument("by", "user")
        if by not in CHARGEBACK_DIMENSIONS:
            raise APIError(400, f"by must be one of: {', '.join(CHARGEBACK_DIMENSIONS)}.")
        fmt = self.get_argument("format", "json")
        if fmt not in ("json", "csv"):
            raise APIError(400, "format must be json or csv.")
        end = _parse_time(self, "end", self.now())
        start = _parse_time(self, "start", None)
        if start is None:  # the 30 days before the end (or since the first day there is)
            start = end - min(dt.timedelta(days=30), end - dt.datetime.min)
        if start >= end:
            raise APIError(400, "start must be before end.")
        with self.db as db:
            rows = _chargeback(db, by, start, end)
        if fmt == "csv":
            self.write_csv(
                [by, "requests", "prompt_tokens", "completion_tokens", "cost_usd"],
                rows,
                f"maas-chargeback-{by}-{start.date()}-{end.date()}.csv",
            )
            return
        self.write_json(
            {"by": by, "start": keys.iso(start), "end": keys.iso(end), "rows": rows},
        )


def seed_quote(fields: dict, table: dict) -> dict:
    """Per-token prices by the seed method (``pricing.seed_prices``) for checked
    ``SEED_PRICING_FIELDS``: an instance of ``table`` or an hourly price, the throughput
    and, with ``spot``, the table's spot factor."""
    if ("instance" in fields) == ("hourly" in fields):
        raise APIError(400, "Send either instance (from the price table) or hourly (USD).")
    instance = fields.get("instance")
    hourly = table["instances"][instance]["hourly"] if instance else fields["hourly"]
    spot_factor = table.get("spot_factor", 0.35) if fields.get("spot") else None
    try:
        p = pricing.seed_prices(hourly, fields["tokens_per_second"], spot_factor=spot_factor)
    except ValueError as e:
        raise APIError(400, f"{str(e)[:1].upper()}{str(e)[1:]}.") from None
    except ArithmeticError:  # decimal's: a price of more digits than it keeps
        raise APIError(
            400,
            "The price per million tokens is out of range: send an hourly price and a "
            "throughput of real sizes.",
        ) from None
    return {
        "method": "seed",
        "instance": instance,
        "hourly": hourly,
        "spot_factor": spot_factor,
        "tokens_per_second": fields["tokens_per_second"],
        "total_per_million": float(p.total_per_million),
        "input_per_million": float(p.input_per_million),
        "output_per_million": float(p.output_per_million),
        "input_cost_per_token": p.input_cost_per_token,
        "output_cost_per_token": p.output_cost_per_token,
    }


class AdminPricingHandler(AdminHandler):
    """GET: the instance price table (hourly USD per instance, the spot factor, its date
    and source). POST ``{"instance": "g5.2xlarge", "tokens_per_second": 35, "spot":
    false}`` (or ``"hourly": 1.212`` instead of an instance): per-token prices by the
    seed method, as ``maas pricing seed`` prints them. Changes nothing."""

    def get(self):
        self.write_json(pricing.load_instance_prices())

    def post(self):
        fields = self.checked(SEED_PRICING_FIELDS)
        self.write_json(seed_quote(fields, pricing.load_instance_prices()))


# route patterns (relative to api/v1/) and their handlers
ADMIN_ROUTES = [
    (r"admin/models", AdminModelsHandler),
    (rf"admin/models/{MODEL_NAME}", AdminModelHandler),
    (r"admin/profiles", AdminProfilesHandler),
    (r"admin/profiles/(?P<slug>[^/]+)", AdminProfileHandler),
    (r"admin/overrides", AdminOverridesHandler),
    (r"admin/overrides/(?P<kind>group|user)/(?P<name>[^/]+)", AdminOverrideHandler),
    (r"admin/policy/(?P<user>[^/]+)", AdminPolicyHandler),
    (r"admin/keys", AdminKeysHandler),
    (rf"admin/keys/{KEY_ID}", AdminKeyHandler),
    (r"admin/audit", AdminAuditHandler),
    (r"admin/chargeback", AdminChargebackHandler),
    (r"admin/pricing", AdminPricingHandler),
    (r"users/(?P<user>[^/]+)/policy", UserPolicyHandler),
]

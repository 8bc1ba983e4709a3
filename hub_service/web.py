"""What every handler of the service shares: the base handlers, JSON errors, the body
limits and the path parameters' patterns."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from http import HTTPStatus

from jupyterhub.services.auth import HubOAuthenticated, UserNotAllowed
from sqlalchemy import select
from tornado import web

from . import catalog, starts
from .db import AuditEntry, Profile, session_scope
from .validation import Invalid, validate

NAME_MAX = 255
# What spreadsheets read as the start of a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A CSV cell that a spreadsheet shows as text: a string that would start a formula
    gets a leading single quote. Every CSV the service writes goes through this."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# The largest request body the API takes (413 with a sentence beyond).
MAX_BODY_BYTES = 1024 * 1024
# The service's HTTP server reads bodies up to this whole before the handler answers (the
# hub's proxy, cut off while it sends a body, would answer 503 instead of passing the
# 413 on), and closes the connection on longer ones.
DRAIN_BODY_BYTES = 16 * 1024 * 1024


class APIError(web.HTTPError):
    """An error a client caused or should know about, with a sentence to show."""

    def __init__(self, status: int, message: str):
        super().__init__(status, reason=HTTPStatus(status).phrase)
        self.message = message


def bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: token ...`` (or ``Bearer ...``) header."""
    kind, _, token = header.strip().partition(" ")
    return token.strip() or None if kind.lower() in ("token", "bearer") else None


def caller_server(model: dict) -> str | None:
    """The server a token belongs to, if it is a single server's own token.

    A server's token carries ``access:servers!server=<user>/<name>`` and nothing
    broader; a user's session or personal token carries more.
    """
    name = model.get("name", "")
    scopes = model.get("scopes") or []
    if "access:servers" in scopes or f"access:servers!user={name}" in scopes:
        return None
    marker = f"access:servers!server={name}/"
    servers = [s[len(marker) :] for s in scopes if s.startswith(marker)]
    return servers[0] if len(servers) == 1 else None


class BaseHandler(HubOAuthenticated, web.RequestHandler):
    """Shared plumbing: the app, JSON bodies, JSON errors."""

    def initialize(self, service):
        self.service = service
        # the service's HubOAuth (HubOAuth.instance(), with a short, bounded cache)
        self.hub_auth = service.hub_auth

    @property
    def db(self):
        return session_scope(self.service.session_factory)

    def now(self) -> dt.datetime:
        return self.service.utcnow()

    async def _identify(self) -> None:
        """Ask the hub who the caller is without blocking the service: HubAuth's own
        ``get_current_user`` waits for the hub's answer on the event loop, so every
        other request would wait too (a burst of servers starting, say)."""
        if hasattr(self, "_hub_auth_user_cache"):
            return
        token = bearer_token(self.request.headers.get("Authorization", ""))
        if token:  # a server's own token, announced by the hub as the server started
            with self.service.engine.connect() as connection:
                start = starts.by_token(connection, token, self.now())
                if start is not None:
                    self._hub_auth_user_cache = starts.identity(start, self.service.service_name)
                    return
        model = await self.hub_auth.get_user(self, sync=False)
        try:
            self._hub_auth_user_cache = self.check_hub_user(model) if model else None
        except UserNotAllowed:
            self._hub_auth_user_cache = None


class APIHandler(BaseHandler):
    """A JSON endpoint: token or cookie auth, JSON in and out, errors as JSON.

    The HTTP server reads a whole body of up to ``DRAIN_BODY_BYTES`` before the handler
    answers (an answer sent while the hub's proxy is still sending a body makes the proxy
    say 503 instead); a body over ``MAX_BODY_BYTES`` then gets a JSON 413.
    """

    require_auth = True

    def set_default_headers(self):
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    async def prepare(self):
        if len(self.request.body) > MAX_BODY_BYTES:
            raise self._body_too_large()
        await self._identify()
        self.authorize()

    def authorize(self):
        """Refuse callers who may not use this endpoint (after the body's size check)."""
        if self.require_auth and self.current_user is None:
            raise APIError(
                401,
                "Authentication required: send a JupyterHub token "
                "('Authorization: token ...') or sign in through the hub.",
            )

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, APIError):
            message = exc.message
        elif isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        else:
            message = HTTPStatus(status_code).phrase
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"status": status_code, "message": message}))

    def write_json(self, data, status: int = 200):
        self.set_status(status)
        self.finish(json.dumps(data))

    @staticmethod
    def _body_too_large() -> APIError:
        return APIError(
            413,
            f"The request body is over {MAX_BODY_BYTES / 2**20:g} MiB, this API's limit: "
            "send a smaller one.",
        )

    def json_body(self) -> dict:
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except ValueError:
            raise APIError(400, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise APIError(400, "The request body must be a JSON object.")
        return body

    def write_csv(self, columns: list[str], rows, filename: str) -> None:
        """Answer ``rows`` (dicts) as a CSV download, every cell spreadsheet-safe."""
        out = io.StringIO()
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.finish(out.getvalue())

    def audit(self, db, action: str, target_type: str, target: str, before, after) -> None:
        """Record a change: who made it, when, and the thing before and after."""
        db.add(
            AuditEntry(
                ts=self.now(),
                actor=self.current_user["name"],
                action=action,
                target_type=target_type,
                target=target,
                before=before,
                after=after,
            )
        )

    def checked(self, fields, *, partial: bool = False) -> dict:
        """The request body's fields, checked against a field specification
        (``validation``): a 400 with the check's sentence otherwise."""
        try:
            return validate(self.json_body(), fields, partial=partial)
        except Invalid as e:
            raise APIError(400, str(e)) from None

    def caller_groups(self) -> tuple[list[str], bool]:
        """The caller's hub groups and whether they are a hub admin, as the hub says
        (its identity model of the caller's token or sign-in, which always has both)."""
        me = self.current_user or {}
        return list(me.get("groups") or []), bool(me.get("admin"))

    def active_groups(self, db) -> tuple[list[str], bool, dict[str, str]]:
        """The caller's hub groups that grant now (a team outside its term grants
        nothing), whether they are a hub admin, and those teams with why."""
        from .teams import idle  # teams' handlers build on this module

        groups, admin = self.caller_groups()
        resting = {g: why for g, why in idle(db, self.now()).items() if g in groups}
        return [g for g in groups if g not in resting], admin, resting

    def own_profile(self, db, slug: str | None, doing: str = "use") -> Profile:
        """The profile ``slug`` if the caller may use it (their default profile if
        ``slug`` is None): 400 for a profile that does not exist, 403 for one that is not
        open to the caller's groups, naming those that are (``catalog.choose``), or open
        only through teams outside their terms, saying so."""
        profiles = db.scalars(select(Profile).order_by(Profile.id)).all()
        groups, admin, resting = self.active_groups(db)
        try:
            return catalog.choose(profiles, slug, groups, admin, doing)
        except catalog.ProfileRefused as e:
            raise APIError(
                e.status, catalog.with_terms(e.message, profiles, slug, resting)
            ) from None

    def check_owner(self, user: str) -> dict:
        """Only the user themselves may touch their keys and usage."""
        me = self.current_user
        if me.get("kind", "user") != "user" or me["name"] != user:
            raise APIError(403, f"You may only manage your own keys, not those of {user!r}.")
        return me


class NotFoundHandler(APIHandler):
    """Any other API path: a JSON 404 rather than an HTML page."""

    require_auth = False

    def prepare(self):
        raise APIError(404, f"No such API endpoint: {self.request.path}")


# Path parameters (named groups: the OpenAPI document's parameters are derived from them).
USER = r"(?P<user>[^/]+)"
KEY_ID = r"(?P<key_id>[0-9a-f]{1,32})"
KERNEL_ID = r"(?P<kernel_id>[0-9A-Za-z-]{1,64})"
# A model's name in a path: URL-encoded (Qwen%2FQwen2.5-7B-Instruct; tornado matches
# the raw path and unquotes the group) or with its slashes as they are.
MODEL_NAME = r"(?P<name>[^/]+(?:/[^/]+)*)"

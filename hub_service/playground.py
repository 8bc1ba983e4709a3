"""The portal's chat playground: a user tries their models without a notebook or a key.

``POST users/{user}/playground`` sends a conversation to the gateway, as any client
would, with a key the service holds for the user (never shown to them) and streams the
gateway's answer back as it comes (server-sent events: OpenAI's chat completion
chunks, the last one with the turn's tokens). The gateway checks, counts and bills
these requests as any other: the user's models, budget and limits, and a usage row
whose notebook is ``playground``. A refusal comes back with the gateway's status and
sentence.

The key (``keys.issue_for_playground``) is a personal key of the user's default profile
that lives ``MaaSService.playground_key_lifetime`` seconds. It is issued at the first
turn, used while it has more than a minute left, replaced after, and revoked when the
user signs out of the portal (``PlaygroundSignOutHandler``, the portal's Sign out).
It is not among the user's keys (the API and the portal list none of it) and does not
count toward their personal keys' cap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import ssl
from urllib.parse import urlsplit

from tornado.http1connection import HTTP1Connection, HTTP1ConnectionParameters
from tornado.httputil import HTTPHeaders, HTTPInputError, HTTPMessageDelegate, RequestStartLine
from tornado.iostream import StreamClosedError
from tornado.tcpclient import TCPClient

from . import hub, keys
from .db import ApiKey
from .validation import PLAYGROUND_FIELDS
from .web import USER, APIError, APIHandler, BaseHandler

log = logging.getLogger(__name__)

# a key with less left than this is replaced before a turn (a turn takes minutes at most)
MIN_LEFT = dt.timedelta(minutes=1)
# the longest a turn may stream, and take to connect
TURN_TIMEOUT = 600.0
CONNECT_TIMEOUT = 10.0
MAX_STREAM = 64 * 2**20  # bytes of one turn's stream (a long answer is some 100 kB)
REFUSAL_BYTES = 65536  # of a refusal's body, kept for its sentence


@dataclasses.dataclass(frozen=True)
class HeldKey:
    id: str
    secret: str
    expires_at: dt.datetime


class PlaygroundKeys:
    """The playground's keys the service holds, by user (in this process: another
    replica, or a restart, issues its own, which replaces this one)."""

    def __init__(self, service):
        self.service = service
        self.held: dict[str, HeldKey] = {}

    def key(self, db, user: str, profile_slug: str, user_created, now: dt.datetime) -> str:
        """The user's playground key, issued if there is none that will live a while."""
        held = self.held.get(user)
        if held is not None and held.expires_at - now > MIN_LEFT:
            row = db.get(ApiKey, held.id)
            if row is not None and row.state(now) == "active" and row.profile_slug == profile_slug:
                return held.secret
        lifetime = dt.timedelta(seconds=self.service.playground_key_lifetime)
        row, secret = keys.issue_for_playground(
            db,
            user=user,
            profile_slug=profile_slug,
            lifetime=lifetime,
            now=now,
            hub_user_created=user_created,
        )
        self.held[user] = HeldKey(row.id, secret, row.expires_at)
        log.info("Issued playground key %s for user %s", row.id, user)
        return secret

    def revoke(self, db, user: str, now: dt.datetime) -> int:
        """Sign-out: the user's playground keys end now."""
        self.held.pop(user, None)
        return keys.revoke_where(db, keys.playground_keys(user), reason="signed out", now=now)


class PlaygroundHandler(APIHandler):
    """POST ``{"model": ..., "messages": [...], "temperature": ..., "max_tokens": ...}``:
    the model's answer to the conversation, streamed from the gateway (``text/event-
    stream``: chat completion chunks, then ``data: [DONE]``), counted as the user's
    ``playground``. A refusal (the gateway's, or this API's) is JSON with a message."""

    async def post(self, user):
        me = self.check_owner(user)
        body = self.checked(PLAYGROUND_FIELDS)
        now = self.now()
        with self.db as db:
            slug = self.own_profile(db, None, "chat with").slug
            key = self.service.playground.key(db, user, slug, hub.created(me), now)
        payload = {**body, "stream": True, "stream_options": {"include_usage": True}}
        relay = _Relay(self)
        self._relay = relay
        try:
            await relay.post(self.service.client_base_url + "/chat/completions", key, payload)
        except StreamClosedError:
            if relay.caller_left:
                return  # Stop: the gateway counts what was generated until then
            log.warning("The gateway closed the playground's stream of %s", user)
            if relay.streaming:
                return
            raise APIError(502, "The MaaS gateway closed the connection; try again.") from None
        except (OSError, HTTPInputError) as e:
            log.warning("The playground cannot reach the gateway: %s", e)
            raise APIError(502, "The MaaS gateway cannot be reached; try again shortly.") from None
        if relay.status != 200:
            raise APIError(relay.status or 502, relay.gateway_message())
        self.finish()

    def on_connection_close(self) -> None:
        relay = getattr(self, "_relay", None)
        if relay is not None:
            relay.stop()


class _Relay(HTTPMessageDelegate):
    """One turn's request to the gateway, its stream written on to the browser as it
    comes (its refusal kept for the handler), closed when the browser leaves (Stop):
    the gateway then stops generating."""

    def __init__(self, handler: APIHandler):
        self.handler = handler
        self.status: int | None = None
        self.refusal = bytearray()
        self.streaming = self.caller_left = False
        self.stream = None

    async def post(self, url: str, key: str, payload: dict) -> None:
        parts = urlsplit(url)
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        self.stream = await TCPClient().connect(
            parts.hostname,
            port,
            ssl_options=ssl.create_default_context() if https else None,
            timeout=CONNECT_TIMEOUT,
        )
        if self.caller_left:
            self.stream.close()
            raise StreamClosedError()
        body = json.dumps(payload).encode()
        connection = HTTP1Connection(
            self.stream,
            True,
            HTTP1ConnectionParameters(
                no_keep_alive=True, body_timeout=TURN_TIMEOUT, max_body_size=MAX_STREAM
            ),
        )
        connection.write_headers(
            RequestStartLine("POST", parts.path, "HTTP/1.1"),
            HTTPHeaders(
                {
                    "Host": parts.netloc,
                    "Authorization": f"Bearer {key}",
                    "Content-Type": "application/json",
                    "Content-Length": str(len(body)),
                    "Accept": "text/event-stream",
                }
            ),
        )
        connection.write(body)
        connection.finish()
        try:
            await connection.read_response(self)
        finally:
            self.stream.close()

    def stop(self) -> None:
        self.caller_left = True
        if self.stream is not None:
            self.stream.close()

    def headers_received(self, start_line, headers) -> None:
        self.status = start_line.code

    def data_received(self, chunk: bytes) -> None:
        if self.caller_left:
            return
        if self.status != 200:
            self.refusal += chunk[: REFUSAL_BYTES - len(self.refusal)]
            return
        handler = self.handler
        if not self.streaming:
            self.streaming = True
            handler.set_header("Content-Type", "text/event-stream; charset=utf-8")
            handler.set_header("X-Accel-Buffering", "no")
        handler.write(chunk)
        # a browser gone meanwhile is noticed by ``stop``, not here
        handler.flush().add_done_callback(lambda f: f.exception())

    def gateway_message(self) -> str:
        """The gateway's sentence in a refusal ("error": {"message": ...})."""
        try:
            error = json.loads(self.refusal).get("error") or {}
            message = error.get("message") if isinstance(error, dict) else str(error)
        except (ValueError, AttributeError):
            message = None
        return message or f"The MaaS gateway answered HTTP {self.status}."


class PlaygroundSignOutHandler(BaseHandler):
    """POST ``{prefix}logout`` (the portal's Sign out, sent with the page's XSRF token):
    revoke the user's playground key, forget the portal's sign-in, and answer where the
    page goes next, the hub's sign-out (``{"next": url}``). The hub identifies a cookie's
    user on a POST only with that token, so another site's form cannot sign anyone out:
    without it, as on a GET (a link, a typed address), nothing changes and the next
    place is the portal. (The page navigates itself: the portal's CSP allows forms to
    post only to its own origin, which a sign-out's redirects may leave.)"""

    async def prepare(self):
        await self._identify()

    def get(self):
        self.redirect(self.service.api_prefix)

    def post(self):
        me = self.current_user
        if me is None:  # no sign-in, or no XSRF token (another site's form)
            self.write({"next": self.service.api_prefix})
            return
        if me.get("kind", "user") == "user":
            with self.db as db:
                self.service.playground.revoke(db, me["name"], self.now())
        self.hub_auth.clear_cookie(self)
        self.write({"next": self.hub_auth.hub_prefix + "logout"})


PLAYGROUND_ROUTES = [(rf"users/{USER}/playground", PlaygroundHandler)]

"""Our plugin inside the LiteLLM proxy: key auth, entitlements, and usage records.

LiteLLM loads ``user_api_key_auth`` as ``general_settings.custom_auth`` and
``usage_logger`` as a ``litellm_settings.callbacks`` entry. Both read the service's
database (``$MAAS_DB_URL``): keys by their SHA-256 behind a short cache, the catalog
for entitlements and prices. Usage rows are queued and written by a background thread,
so a request never waits on the database; the queue is drained at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import logging
import os
import queue
import re
import threading
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy._types import UserAPIKeyAuth
from litellm.proxy.common_utils.http_parsing_utils import read_request_body
from sqlalchemy import insert, select

from .. import catalog as catalog_rules
from ..db import ApiKey, CatalogModel, Profile, Usage, make_engine, make_session_factory, utcnow
from ..keys import KEY_PREFIX, hash_key

log = logging.getLogger("maas.gateway")

# The OpenAI-compatible routes this gateway governs; anything else (LiteLLM's admin
# and management API) is refused for MaaS keys.
LLM_ROUTE = re.compile(
    r"^(?:/v1|/openai/v1)?/(?:chat/completions|completions|embeddings|responses|models(?:/.+)?)$"
)
MODEL_ROUTE = re.compile(r"/models(?:/.+)?$")

BATCH_WINDOW = 0.2  # seconds the usage writer waits to batch rows

# Every usage row has every column, so one executemany can insert a batch.
USAGE_DEFAULTS = {
    "server_name": None,
    "key_id": None,
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "cost_usd": 0.0,
    "latency_ms": 0.0,
    "error": None,
    "request_id": None,
}


@dataclass(frozen=True)
class KeyInfo:
    id: str
    user: str
    server_name: str | None
    profile: str | None
    allowed: tuple[str, ...]
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_reason: str | None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    enabled: bool
    input_cost_per_token: float
    output_cost_per_token: float


class GatewayState:
    """Caches and the usage writer of one gateway process."""

    def __init__(self, db_url: str, key_ttl: float = 5.0, catalog_ttl: float = 5.0):
        self.engine = make_engine(db_url)
        self.sessions = make_session_factory(self.engine)
        self.key_ttl = key_ttl
        self.catalog_ttl = catalog_ttl
        self._keys: dict[str, tuple[float, KeyInfo | None]] = {}
        self._catalog: dict[str, ModelInfo] = {}
        self._catalog_at = float("-inf")
        self._catalog_lock = asyncio.Lock()
        self.usage: queue.Queue[dict | None] = queue.Queue()
        self._allowed: dict[tuple[str, ...], list[str]] = {}
        self._writer = threading.Thread(target=self._write_usage, name="maas-usage", daemon=True)
        self._writer.start()
        atexit.register(self.close)

    # -- keys and catalog -------------------------------------------------------------

    def _load_key(self, key_hash: str) -> KeyInfo | None:
        with self.sessions() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
            if row is None:
                return None
            allowed: list[str] = []
            if row.profile_slug:
                profile = session.scalar(select(Profile).where(Profile.slug == row.profile_slug))
                allowed = list(profile.models) if profile else []
            return KeyInfo(
                id=row.id,
                user=row.user,
                server_name=row.server_name,
                profile=row.profile_slug,
                allowed=tuple(allowed),
                expires_at=row.expires_at,
                revoked_at=row.revoked_at,
                revoked_reason=row.revoked_reason,
            )

    async def key(self, key_hash: str) -> KeyInfo | None:
        now = time.monotonic()
        hit = self._keys.get(key_hash)
        if hit is not None and hit[0] > now:
            return hit[1]
        info = await asyncio.to_thread(self._load_key, key_hash)
        if len(self._keys) > 100_000:  # bound memory against floods of random keys
            self._keys.clear()
        self._keys[key_hash] = (now + self.key_ttl, info)
        return info

    def _load_catalog(self) -> dict[str, ModelInfo]:
        with self.sessions() as session:
            return {
                m.name: ModelInfo(
                    m.name, m.enabled, m.input_cost_per_token, m.output_cost_per_token
                )
                for m in session.scalars(select(CatalogModel))
            }

    async def catalog(self) -> dict[str, ModelInfo]:
        if time.monotonic() - self._catalog_at > self.catalog_ttl:
            async with self._catalog_lock:
                if time.monotonic() - self._catalog_at > self.catalog_ttl:
                    self._catalog = await asyncio.to_thread(self._load_catalog)
                    self._catalog_at = time.monotonic()
                    self._allowed = {}
        return self._catalog

    def allowed(self, entitlement: tuple[str, ...]) -> list[str]:
        """The enabled models an entitlement grants (memoised per catalog load)."""
        names = self._allowed.get(entitlement)
        if names is None:
            names = self._allowed[entitlement] = [
                name
                for name, m in sorted(self._catalog.items())
                if m.enabled and catalog_rules.entitled(entitlement, name)
            ]
        return names

    # -- usage --------------------------------------------------------------------

    def record(self, **fields) -> None:
        """Queue one usage row; never blocks, never raises into the request."""
        fields.setdefault("ts", utcnow())
        self.usage.put(fields)

    def _write_batch(self, batch: list[dict]) -> None:
        # One executemany of plain rows: far less work (and GIL) than ORM objects.
        with self.engine.begin() as conn:
            conn.execute(insert(Usage), [{**USAGE_DEFAULTS, **row} for row in batch])

    def _write_usage(self) -> None:
        backoff = 0.5
        pending: list[dict] = []
        while True:
            item = self.usage.get()
            if item is None:
                break
            pending.append(item)
            # Gather what arrives in the next moment: fewer, larger transactions
            # take less from the request path than one commit per row.
            time.sleep(BATCH_WINDOW)
            while len(pending) < 1000:
                try:
                    item = self.usage.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.usage.put(None)
                    break
                pending.append(item)
            try:
                self._write_batch(pending)
                pending = []
                backoff = 0.5
            except Exception:  # noqa: BLE001 - the database may be briefly away
                log.exception("Writing %d usage rows failed; retrying", len(pending))
                time.sleep(backoff)
                backoff = min(backoff * 2, 30)
                # keep them: put back in front by re-queuing after what is there
                for row in pending:
                    self.usage.put(row)
                pending = []
        self._drain()

    def _drain(self) -> None:
        rest: list[dict] = []
        while True:
            try:
                item = self.usage.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                rest.append(item)
        if rest:
            self._write_batch(rest)

    def close(self) -> None:
        """Write every queued row (called at exit)."""
        if self._writer.is_alive():
            self.usage.put(None)
            self._writer.join(timeout=30)
        self._drain()


_state: GatewayState | None = None


def state() -> GatewayState:
    global _state
    if _state is None:
        _state = GatewayState(
            os.environ["MAAS_DB_URL"],
            key_ttl=float(os.environ.get("MAAS_KEY_CACHE_TTL", "5")),
            catalog_ttl=float(os.environ.get("MAAS_CATALOG_CACHE_TTL", "5")),
        )
    return _state


def _deny(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


def _route(request: Request) -> str:
    return request.url.path


async def user_api_key_auth(request: Request, api_key: str | None) -> UserAPIKeyAuth:
    """LiteLLM's ``custom_auth``: who is calling, and may they call this model?

    Every refusal is an HTTPException with a sentence for the caller; anything
    unexpected (the database away, say) becomes a 503, never a traceback.
    """
    try:
        return await _authenticate(request, api_key)
    except HTTPException:
        raise
    except Exception:  # noqa: BLE001
        log.exception("Checking a key failed")
        raise _deny(
            503, "The MaaS gateway cannot check keys right now; try again shortly."
        ) from None


async def _authenticate(request: Request, api_key: str | None) -> UserAPIKeyAuth:
    st = state()
    api_key = (api_key or "").strip()
    if api_key.lower().startswith("bearer "):
        api_key = api_key[7:].strip()
    if not api_key:
        raise _deny(401, "No API key: send your MaaS key as 'Authorization: Bearer sk-maas-...'.")
    if not api_key.startswith(KEY_PREFIX):
        raise _deny(401, "Invalid API key: MaaS keys start with 'sk-maas-'.")
    info = await st.key(hash_key(api_key))
    if info is None:
        raise _deny(401, "Invalid API key: it is not known to this MaaS gateway.")
    if info.revoked_at is not None:
        why = f" ({info.revoked_reason})" if info.revoked_reason else ""
        raise _deny(401, f"This API key was revoked{why}: get a new one from the MaaS service.")
    if info.expires_at <= utcnow():
        raise _deny(401, "This API key has expired: renew it or get a new one.")

    route = _route(request)
    if not LLM_ROUTE.match(route):
        raise _deny(403, f"{route} is not available with a MaaS key.")

    models = await st.catalog()
    allowed = st.allowed(info.allowed)
    if not MODEL_ROUTE.search(route):
        body = await read_request_body(request)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _deny(400, f"Say which model to use ('model'); yours: {', '.join(allowed)}.")
        denial = _check_model(info, models, model, allowed)
        if denial is not None:
            st.record(
                user=info.user,
                server_name=info.server_name,
                key_id=info.id,
                model=model[:255],
                status_code=denial.status_code,
                error=denial.detail,
            )
            raise denial

    return UserAPIKeyAuth(
        api_key=info.id,
        key_alias=info.id,
        user_id=info.user,
        models=allowed,
        metadata=_auth_metadata(info),
    )


def _auth_metadata(info: KeyInfo) -> dict[str, str]:
    """What the usage logger needs back from the auth step (LiteLLM carries it)."""
    meta = {"maas_key_id": info.id}
    if info.server_name is not None:  # "" is the default server, absent a personal key
        meta["maas_server"] = info.server_name
    if info.profile:
        meta["maas_profile"] = info.profile
    return meta


def _check_model(
    info: KeyInfo, models: dict[str, ModelInfo], model: str, allowed: list[str]
) -> HTTPException | None:
    yours = ", ".join(allowed) or "none"
    entry = models.get(model)
    if entry is None:
        return _deny(404, f"The model '{model}' does not exist. Models you can use: {yours}.")
    if not entry.enabled:
        return _deny(403, f"The model '{model}' is disabled. Models you can use: {yours}.")
    if not catalog_rules.entitled(info.allowed, model):
        return _deny(
            403,
            f"The model '{model}' is not allowed for profile '{info.profile}'. "
            f"Models you can use: {yours}.",
        )
    return None


class UsageLogger(CustomLogger):
    """LiteLLM callback: one usage row per request, successful or failed."""

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._record(kwargs, 200, None)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        exc = kwargs.get("exception")
        status = getattr(exc, "status_code", None) or 500
        self._record(kwargs, int(status), str(exc)[:1000] if exc else "failed")

    def _record(self, kwargs: dict, status: int, error: str | None) -> None:
        try:
            slo = kwargs.get("standard_logging_object") or {}
            meta = slo.get("metadata") or {}
            auth_meta = meta.get("user_api_key_auth_metadata") or {}
            user = meta.get("user_api_key_user_id")
            if not user:
                return  # not one of our keys (e.g. a health check)
            st = state()
            model = slo.get("model_group") or slo.get("model") or ""
            prompt = int(slo.get("prompt_tokens") or 0)
            completion = int(slo.get("completion_tokens") or 0)
            entry = st._catalog.get(model)
            cost = (
                catalog_rules.request_cost(
                    entry.input_cost_per_token, entry.output_cost_per_token, prompt, completion
                )
                if entry
                else 0.0
            )
            start, end = slo.get("startTime"), slo.get("endTime")
            st.record(
                user=user,
                server_name=auth_meta.get("maas_server"),
                key_id=auth_meta.get("maas_key_id") or meta.get("user_api_key_alias"),
                model=model[:255],
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=cost,
                latency_ms=(end - start) * 1000 if start and end else 0.0,
                status_code=status,
                error=error,
                request_id=(slo.get("id") or "")[:64] or None,
            )
        except Exception:  # noqa: BLE001 - logging must never break a request
            log.exception("Could not record usage")


usage_logger = UsageLogger()

"""``MaaSExtension``: obtain this server's MaaS key and hand it to every kernel."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import urllib.error
import urllib.request
from urllib.parse import quote

from tornado.ioloop import IOLoop
from traitlets import Any, Float, Unicode, default
from traitlets.config import LoggingConfigurable

from . import __version__
from .agents import opencode_config

# The variables that hold the key: OpenAI's SDK reads OPENAI_API_KEY; Anthropic's
# SDK and Claude Code read ANTHROPIC_AUTH_TOKEN (sent as a bearer, which the gateway
# takes as it takes x-api-key)
KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_AUTH_TOKEN")


def credentials(key: str, base_url: str, models: list[str]) -> dict[str, str]:
    """What kernels and terminals get: the key and the gateway's URL under the names
    OpenAI's and Anthropic's SDKs (and the agents built on them) read, and OpenCode's
    provider of the ``models`` (``agents``)."""
    return {
        **dict.fromkeys(KEY_VARIABLES, key),
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_BASE": base_url,  # the legacy name many notebooks still read
        # Anthropic's clients add /v1/messages to the gateway's root
        "ANTHROPIC_BASE_URL": base_url.rstrip("/").removesuffix("/v1"),
        "OPENCODE_CONFIG_CONTENT": opencode_config(base_url, models),
    }


class MaaSExtension(LoggingConfigurable):
    """Fetches the server's key from the MaaS hub service with the server's hub token
    and exports it, with the gateway's URL, into the environment kernels start with."""

    hub_api_token = Unicode(help="This server's hub token. Default: $JUPYTERHUB_API_TOKEN.").tag(
        config=True
    )

    @default("hub_api_token")
    def _default_token(self):
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    server_name = Unicode(help="This server's name. Default: $JUPYTERHUB_SERVER_NAME.").tag(
        config=True
    )

    @default("server_name")
    def _default_server_name(self):
        return os.environ.get("JUPYTERHUB_SERVER_NAME", "")

    service_url = Unicode(
        help="The MaaS service's URL, ending in its prefix (e.g. "
        "http://hub:8081/services/maas/). Default: $MAAS_SERVICE_URL; empty disables "
        "the extension."
    ).tag(config=True)

    @default("service_url")
    def _default_service_url(self):
        return os.environ.get("MAAS_SERVICE_URL", "")

    timeout = Float(
        1.5,
        help="Seconds the first attempt at server start may take; after that the server "
        "starts anyway and later attempts run in the background.",
    ).tag(config=True)

    key_check_interval = Float(
        30.0,
        help="Seconds between checks that the service still accepts this server's key "
        "(it may have been replaced or revoked: a new one is then obtained at once, and "
        "running kernels get it at their next restart).",
    ).tag(config=True)

    retry_max_interval = Float(
        60.0, help="Longest wait, in seconds, between attempts while the service is away."
    ).tag(config=True)

    user = Unicode(help="This server's user. Default: $JUPYTERHUB_USER.").tag(config=True)

    @default("user")
    def _default_user(self):
        return os.environ.get("JUPYTERHUB_USER", "")

    kernel_manager = Any(
        None,
        allow_none=True,
        help="The server's kernel manager, whose running kernels get changed values at "
        "their next restart.",
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state = "pending"
        self.message = "Obtaining LLM credentials from the MaaS service."
        self.base_url: str | None = None
        self.models: list[str] = []
        self.key_id: str | None = None
        self.profile: str | None = None
        self.default_model: str | None = os.environ.get("MAAS_DEFAULT_MODEL") or None
        self.kernel_keys = None  # kernels.KernelKeys, once installed
        self.terminal_keys = None  # terminals.TerminalKeys, once installed
        self._renewal = None  # the IOLoop timeout of the next renewal
        self._watching = False
        self._heal_lock = asyncio.Lock()

    def status(self) -> dict:
        return {
            "version": __version__,
            "state": self.state,
            "message": self.message,
            "base_url": self.base_url,
            "models": self.models,
            "profile": self.profile,
            "default_model": self.default_model,
        }

    def set_default_model(self, model: str) -> None:
        """The model new kernels find in MAAS_DEFAULT_MODEL."""
        if model not in self.models:
            raise ValueError(
                f"{model!r} is not one of this server's models: {', '.join(self.models) or 'none'}."
            )
        self.default_model = model
        self._export({"MAAS_DEFAULT_MODEL": model})

    def _export(self, values: dict[str, str]) -> None:
        """Set ``values`` for new kernels (they inherit this process's environment) and
        for restarts of running ones: jupyter_client restarts a kernel with the
        environment it was first launched with, unless told otherwise."""
        os.environ.update(values)
        km = self.kernel_manager
        if km is not None:
            for kernel_id in km.list_kernel_ids():
                km.update_env(kernel_id=kernel_id, env=values)

    def start(self) -> None:
        """Try once, briefly; if the service is away, keep trying in the background so
        that the server starts on time and kernels started later get the key."""
        if not (self.service_url and self.hub_api_token and self.user):
            self.state = "disabled"
            self.message = (
                "No MaaS service is configured for this server (MAAS_SERVICE_URL, "
                "JUPYTERHUB_API_TOKEN and JUPYTERHUB_USER must be set)."
            )
            self.log.info("jupyterlab-maas: %s", self.message)
            return
        try:
            self.apply(self.request_key(self.timeout))
        except MaaSServiceError as e:
            self._failed(e, retry_in=2.0)
            IOLoop.current().add_callback(self._retry, 2.0)

    def _failed(self, error: MaaSServiceError, retry_in: float) -> None:
        self.state = "error"
        self.message = f"{error} Retrying in {retry_in:g} s."
        self.log.warning("jupyterlab-maas: %s", self.message)

    async def _retry(self, wait: float) -> None:
        while True:
            await asyncio.sleep(wait)
            try:
                issued = await asyncio.to_thread(self.request_key, 10.0)
            except MaaSServiceError as e:
                wait = min(wait * 2, self.retry_max_interval)
                self._failed(e, retry_in=wait)
                continue
            self.apply(issued)
            return

    def _schedule_renewal(self, issued: dict) -> None:
        """Renew the key when half its remaining life has passed: same key, later
        expiry, so running kernels keep working (one renewal pending at a time)."""
        expires = dt.datetime.fromisoformat(issued["expires_at"])
        remaining = (expires - dt.datetime.now(dt.timezone.utc)).total_seconds()
        loop = IOLoop.current()
        if self._renewal is not None:
            loop.remove_timeout(self._renewal)
        self._renewal = loop.call_later(max(1.0, remaining / 2), self._renew)

    async def heal(self, stale_key_id: str | None) -> bool:
        """The service no longer accepts the key ``stale_key_id``: renew it if it only
        expired (a server may renew its own expired key, and its kernels keep theirs),
        else (replaced by the user, revoked by an admin) obtain a new one; unless that was
        done already (one attempt at a time, whoever noticed). True if the server has a
        working key."""
        async with self._heal_lock:
            if self.key_id != stale_key_id:
                return self.state == "ready"
            try:
                renewed = await asyncio.to_thread(self._post, self._renew_url(), None, 10.0)
            except MaaSServiceError as e:
                if e.status != 409:  # the service did not answer: next time
                    self.log.warning("jupyterlab-maas: cannot check the server's key: %s", e)
                    return False
            else:
                self._schedule_renewal(renewed)
                return True
            try:
                issued = await asyncio.to_thread(self.request_key, 10.0)
            except MaaSServiceError as e:
                self.log.warning("jupyterlab-maas: cannot replace the server's key: %s", e)
                return False
            self.log.warning(
                "jupyterlab-maas: the service no longer accepts key %s; replaced", stale_key_id
            )
            self.apply(issued)
            return True

    def _renew_url(self) -> str:
        return (
            self.service_url.rstrip("/")
            + f"/api/v1/users/{quote(self.user, safe='')}/keys/{self.key_id}/renew"
        )

    async def _watch(self) -> None:
        """Check the key every ``key_check_interval`` seconds and heal it if the service
        says it is no longer active (a service that does not answer: next time)."""
        user = quote(self.user, safe="")
        while True:
            await asyncio.sleep(self.key_check_interval)
            key_id = self.key_id
            try:
                answer = await asyncio.to_thread(self.get, f"users/{user}/keys/{key_id}", 10.0)
            except MaaSServiceError as e:
                if e.status in (403, 404, 409):  # not this server's key any more
                    await self.heal(key_id)
                continue
            if answer.get("state") != "active":
                await self.heal(key_id)

    async def _renew(self) -> None:
        try:
            renewed = await asyncio.to_thread(self._post, self._renew_url(), None, 10.0)
        except MaaSServiceError as e:
            if e.status == 409:  # revoked or expired meanwhile: new kernels get a new key
                self.log.warning("jupyterlab-maas: %s; obtaining a new key", e)
                if not await self.heal(self.key_id):
                    await self._retry(2.0)
            else:
                self.log.warning("jupyterlab-maas: renewing the key failed (%s); retrying", e)
                IOLoop.current().call_later(30.0, self._renew)
            return
        self.log.info(
            "jupyterlab-maas: key %s renewed until %s", self.key_id, renewed["expires_at"]
        )
        self._schedule_renewal(renewed)

    def apply(self, issued: dict) -> None:
        replaced = self.key_id is not None and self.key_id != issued["id"]
        self.base_url = issued["base_url"]
        self.models = issued.get("models", [])
        self.key_id = issued["id"]
        self.profile = issued.get("profile")
        if self.default_model not in self.models:
            self.default_model = self.models[0] if self.models else None
        values = credentials(issued["key"], issued["base_url"], self.models)
        if self.default_model:
            values["MAAS_DEFAULT_MODEL"] = self.default_model
        self._export(values)
        self.state = "ready"
        if replaced and self.kernel_keys is not None:  # their keys died with the old one
            IOLoop.current().add_callback(self._rekey)
        elif self.terminal_keys is not None:
            IOLoop.current().add_callback(self.terminal_keys.refill)
        if self.models:
            self.message = "LLM credentials are set in new kernels."
        else:
            self.message = "Your profile allows no models: ask your JupyterHub admin."
        self._schedule_renewal(issued)
        if not self._watching:
            self._watching = True
            IOLoop.current().add_callback(self._watch)
        self.log.info(
            "jupyterlab-maas: key %s obtained; kernels get OPENAI_BASE_URL=%s, models: %s",
            self.key_id,
            self.base_url,
            ", ".join(self.models) or "none",
        )

    async def _rekey(self) -> None:
        """New keys for the kernels and terminals whose keys died with the server's
        previous key, and for the next terminal."""
        await self.kernel_keys.rekey()
        if self.terminal_keys is not None:
            await self.terminal_keys.refill()

    def request_key(self, timeout: float) -> dict:
        url = self.service_url.rstrip("/") + f"/api/v1/users/{quote(self.user, safe='')}/keys"
        return self._post(url, {"server_name": self.server_name}, timeout)

    def get(self, path: str, timeout: float = 10.0) -> dict:
        """GET a service API path (under api/v1/) with this server's hub token."""
        return self._call(self.service_url.rstrip("/") + "/api/v1/" + path, None, timeout, "GET")

    def _post(self, url: str, body: dict | None, timeout: float) -> dict:
        return self._call(url, body or {}, timeout, "POST")

    def _call(self, url: str, body: dict | None, timeout: float, method: str) -> dict:
        """Call the service with this server's hub token; MaaSServiceError on failure."""
        req = urllib.request.Request(  # noqa: S310 - the configured service URL
            url,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"token {self.hub_api_token}",
                "Content-Type": "application/json",
            },
            method=method,
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
                return json.loads(resp.read() or b"{}")  # 204: no body
        except urllib.error.HTTPError as e:
            try:
                detail = json.loads(e.read()).get("message", "")
            except ValueError:
                detail = ""
            raise MaaSServiceError(
                f"The MaaS service refused this server's request (HTTP {e.code}): {detail}",
                status=e.code,
            ) from None
        except (OSError, ValueError) as e:
            raise MaaSServiceError(
                f"MaaS service unreachable at {self.service_url}: {e}."
            ) from None


class MaaSServiceError(Exception):
    """The MaaS service could not issue or renew a key; the message says why."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status

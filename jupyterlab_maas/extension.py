"""``MaaSExtension``: obtain this server's MaaS key and hand it to every kernel."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from urllib.parse import quote

from traitlets import Float, Unicode, default
from traitlets.config import LoggingConfigurable

from . import __version__

# What kernels inherit. OPENAI_API_BASE is the legacy name many notebooks still read.
ENV_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE")


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

    timeout = Float(10.0, help="Seconds to wait for the MaaS service.").tag(config=True)

    user = Unicode(help="This server's user. Default: $JUPYTERHUB_USER.").tag(config=True)

    @default("user")
    def _default_user(self):
        return os.environ.get("JUPYTERHUB_USER", "")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state = "pending"
        self.message = "Obtaining LLM credentials from the MaaS service."
        self.base_url: str | None = None
        self.models: list[str] = []
        self.key_id: str | None = None

    def status(self) -> dict:
        return {
            "version": __version__,
            "state": self.state,
            "message": self.message,
            "base_url": self.base_url,
            "models": self.models,
        }

    def start(self) -> None:
        if not (self.service_url and self.hub_api_token and self.user):
            self.state = "disabled"
            self.message = (
                "No MaaS service is configured for this server (MAAS_SERVICE_URL, "
                "JUPYTERHUB_API_TOKEN and JUPYTERHUB_USER must be set)."
            )
            self.log.info("jupyterlab-maas: %s", self.message)
            return
        try:
            issued = self.request_key()
        except MaaSServiceError as e:
            self.state = "error"
            self.message = str(e)
            self.log.warning("jupyterlab-maas: %s", e)
            return
        self.apply(issued)

    def apply(self, issued: dict) -> None:
        os.environ["OPENAI_API_KEY"] = issued["key"]
        os.environ["OPENAI_BASE_URL"] = issued["base_url"]
        os.environ["OPENAI_API_BASE"] = issued["base_url"]
        self.base_url = issued["base_url"]
        self.models = issued.get("models", [])
        self.key_id = issued["id"]
        self.state = "ready"
        if self.models:
            self.message = "LLM credentials are set in new kernels."
        else:
            self.message = "Your profile allows no models: ask your JupyterHub admin."
        self.log.info(
            "jupyterlab-maas: key %s obtained; kernels get OPENAI_BASE_URL=%s, models: %s",
            self.key_id,
            self.base_url,
            ", ".join(self.models) or "none",
        )

    def request_key(self) -> dict:
        url = self.service_url.rstrip("/") + f"/api/v1/users/{quote(self.user, safe='')}/keys"
        req = urllib.request.Request(  # noqa: S310 - the configured service URL
            url,
            data=json.dumps({"server_name": self.server_name}).encode(),
            headers={
                "Authorization": f"token {self.hub_api_token}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            try:
                detail = json.loads(e.read()).get("message", "")
            except ValueError:
                detail = ""
            raise MaaSServiceError(
                f"The MaaS service refused this server's key request (HTTP {e.code}): {detail}"
            ) from None
        except (OSError, ValueError) as e:
            raise MaaSServiceError(f"MaaS service unreachable at {self.service_url}: {e}") from None


class MaaSServiceError(Exception):
    """The MaaS service could not issue a key; the message says why."""

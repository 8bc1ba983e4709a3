"""Profiles for spawners, read from the MaaS service (the source of truth).

KubeSpawner::

    from hub_service.spawner import kubespawner_profile_list
    c.KubeSpawner.profile_list = kubespawner_profile_list(
        service_url="http://maas:10101/services/maas/", token=os.environ["MAAS_API_TOKEN"]
    )

Any other spawner (the local demo's): ``profiles_options_form`` renders a choice of
profiles and ``options_from_form`` records the chosen slug in ``user_options``.
Profiles are cached for ``ttl`` seconds; if the service cannot be reached, the last good
list is used (and an empty list only if there never was one).
"""

from __future__ import annotations

import json
import logging
import time
from html import escape

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

log = logging.getLogger(__name__)


class ProfileSource:
    """The service's profiles, cached, with the last good list as a fallback."""

    def __init__(self, service_url: str, token: str, ttl: float = 60.0, timeout: float = 5.0):
        self.url = service_url.rstrip("/") + "/api/v1/profiles"
        self.token = token
        self.ttl = ttl
        self.timeout = timeout
        self._profiles: list[dict] | None = None
        self._fetched = float("-inf")

    async def profiles(self) -> list[dict]:
        if self._profiles is not None and time.monotonic() - self._fetched < self.ttl:
            return self._profiles
        try:
            resp = await AsyncHTTPClient().fetch(
                HTTPRequest(
                    self.url,
                    headers={"Authorization": f"token {self.token}"},
                    request_timeout=self.timeout,
                )
            )
            self._profiles = json.loads(resp.body)["profiles"]
            self._fetched = time.monotonic()
        except Exception as e:  # noqa: BLE001 - keep spawning with what we had
            if self._profiles is None:
                log.error("MaaS profiles unavailable (%s) and none cached", e)
                return []
            log.warning("MaaS profiles unavailable (%s); using the last good list", e)
        return self._profiles


def kubespawner_profile(profile: dict) -> dict:
    """One MaaS profile in KubeSpawner's ``profile_list`` format."""
    res = profile.get("resources") or {}
    override: dict = {}
    for key in ("cpu_limit", "cpu_guarantee", "mem_limit", "mem_guarantee", "image"):
        if res.get(key) is not None:
            override[key] = res[key]
    if res.get("gpu"):
        override["extra_resource_limits"] = {"nvidia.com/gpu": str(res["gpu"])}
    if res.get("node_selector"):
        override["node_selector"] = res["node_selector"]
    if res.get("tolerations"):
        override["tolerations"] = res["tolerations"]
    return {
        "display_name": profile["display_name"],
        "slug": profile["slug"],
        "description": profile.get("description") or "",
        "default": bool(profile.get("default")),
        "kubespawner_override": override,
    }


def kubespawner_profile_list(service_url: str, token: str, ttl: float = 60.0):
    """A callable for ``c.KubeSpawner.profile_list``."""
    source = ProfileSource(service_url, token, ttl)

    async def profile_list(spawner) -> list[dict]:
        return [kubespawner_profile(p) for p in await source.profiles()]

    profile_list.source = source
    return profile_list


def _describe(profile: dict) -> str:
    res = profile.get("resources") or {}
    parts = []
    if res.get("cpu_limit"):
        parts.append(f"{res['cpu_limit']:g} cores")
    if res.get("mem_limit"):
        parts.append(f"{res['mem_limit']}B")
    if res.get("gpu"):
        parts.append(f"{res['gpu']} GPU")
    if profile.get("budget_usd") is not None:
        parts.append(f"${profile['budget_usd']:,.2f} per {profile.get('budget_period', 'month')}")
    return ", ".join(parts)


def profiles_options_form(service_url: str, token: str, ttl: float = 60.0):
    """A callable for ``c.Spawner.options_form``: a choice of the service's profiles."""
    source = ProfileSource(service_url, token, ttl)

    async def options_form(spawner) -> str:
        profiles = await source.profiles()
        if not profiles:
            return ""
        rows = []
        for p in profiles:
            checked = " checked" if p.get("default") else ""
            rows.append(
                f'<label class="maas-profile" style="display:block;margin:.5em 0">'
                f'<input type="radio" name="profile" value="{escape(p["slug"])}"{checked}> '
                f"<strong>{escape(p['display_name'])}</strong> "
                f"<small>{escape(_describe(p))}</small><br>"
                f"<span>{escape(p.get('description') or '')}</span></label>"
            )
        return "<p>Choose a notebook profile:</p>" + "".join(rows)

    options_form.source = source
    return options_form


def options_from_form(formdata: dict) -> dict:
    """Record the chosen profile's slug in ``user_options``."""
    slug = (formdata.get("profile") or [""])[0]
    return {"profile": slug} if slug else {}

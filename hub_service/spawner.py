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

import asyncio
import json
import logging
import time
from html import escape

from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from . import catalog
from .numbers import money

log = logging.getLogger(__name__)


class ProfileSource:
    """The service's profiles and its enabled models' names (what ``"*"`` grants),
    cached together, with the last good pair as a fallback."""

    def __init__(self, service_url: str, token: str, ttl: float = 60.0, timeout: float = 5.0):
        base = service_url.rstrip("/") + "/api/v1/"
        self.url = base + "profiles"
        self.models_url = base + "models"
        self.token = token
        self.ttl = ttl
        self.timeout = timeout
        self._profiles: list[dict] | None = None
        self._models: list[str] = []
        self.idle_teams: dict[str, str] = {}  # teams outside their terms, with why
        self._fetched = float("-inf")

    async def _get(self, url: str) -> dict:
        resp = await AsyncHTTPClient().fetch(
            HTTPRequest(
                url,
                headers={"Authorization": f"token {self.token}"},
                request_timeout=self.timeout,
            )
        )
        return json.loads(resp.body)

    async def profiles(self) -> list[dict]:
        if self._profiles is not None and time.monotonic() - self._fetched < self.ttl:
            return self._profiles
        try:
            profiles, models = await asyncio.gather(self._get(self.url), self._get(self.models_url))
            self._profiles = profiles["profiles"]
            self.idle_teams = profiles.get("idle_teams", {})
            self._models = [m["name"] for m in models["models"] if m.get("enabled", True)]
            self._fetched = time.monotonic()
        except Exception as e:  # noqa: BLE001 - keep spawning with what we had
            if self._profiles is None:
                log.error("MaaS profiles unavailable (%s) and none cached", e)
                return []
            log.warning("MaaS profiles unavailable (%s); using the last good list", e)
        return self._profiles

    async def models(self) -> list[str]:
        """The enabled catalog models' names, as of the profiles' last fetch."""
        await self.profiles()
        return self._models


def _resources(profile: dict) -> str:
    res = profile.get("resources") or {}
    parts = []
    if res.get("cpu_limit"):
        parts.append(f"{res['cpu_limit']:g} cores")
    if res.get("mem_limit"):
        parts.append(f"{res['mem_limit']}B")
    if res.get("gpu"):
        parts.append(f"{res['gpu']} GPU")
    return ", ".join(parts)


# models named in a line at most; the rest are counted
MODELS_SHOWN = 8


def models_line(profile: dict, models: list[str]) -> str:
    """Which of the catalog's enabled ``models`` the profile allows, as a sentence."""
    allowed = sorted(m for m in models if catalog.entitled(profile.get("models") or [], m))
    if not allowed:
        return "Models: none"
    shown = ", ".join(allowed[:MODELS_SHOWN])
    more = len(allowed) - MODELS_SHOWN
    shown += f" and {more} more" if more > 0 else ""
    if catalog.ALL_MODELS in (profile.get("models") or []):
        return f"Models: all enabled ({shown})"
    return f"Models: {shown}"


def budget_line(profile: dict) -> str:
    """The profile's budget and rate limits, as a sentence."""
    budgets = profile.get("budgets") or []
    if not budgets:
        line = "Budget: no limit"
    else:
        line = "Budget: " + ", ".join(f"{money(b['usd'])} per {b['window']}" for b in budgets)
    limits = []
    if profile.get("rpm_limit"):
        limits.append(f"{profile['rpm_limit']:,} requests")
    if profile.get("tpm_limit"):
        limits.append(f"{profile['tpm_limit']:,} tokens")
    if limits:
        line += f"; at most {' and '.join(limits)} a minute"
    return line


def profile_lines(profile: dict, models: list[str] | None) -> dict[str, str]:
    """What a spawn form says of a profile besides its name and description, by kind:
    its resources (if any are set), which of the catalog's enabled ``models`` it allows
    (unless they are not known) and its budget; plain text."""
    lines = {
        "resources": _resources(profile),
        "models": models_line(profile, models) if models is not None else "",
        "budget": budget_line(profile),
    }
    return {kind: line for kind, line in lines.items() if line}


def profile_html(profile: dict, models: list[str] | None) -> str:
    """A profile's description and ``profile_lines``, each escaped, one a line."""
    out = [f'<span class="maas-description">{escape(profile.get("description") or "")}</span>']
    out += [
        f'<small class="maas-{kind}">{escape(line)}</small>'
        for kind, line in profile_lines(profile, models).items()
    ]
    return "<br>".join(out)


def kubespawner_profile(profile: dict, models: list[str] | None = None) -> dict:
    """One MaaS profile in KubeSpawner's ``profile_list`` format; its description says
    which of the catalog's enabled ``models`` it allows and its budget. KubeSpawner's
    form puts the name and the description in the page as they are (its template does
    not escape them): both are escaped here."""
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
        "display_name": escape(profile["display_name"]),
        "slug": profile["slug"],
        "description": profile_html(profile, models),
        "default": bool(profile.get("default")),
        "kubespawner_override": override,
    }


def hub_access(spawner, idle_teams: dict | None = None) -> tuple[list[str], bool]:
    """The hub groups of a spawner's user (but teams outside their terms) and whether
    they are a hub admin: what decides which profiles are theirs (``catalog.open_to``)."""
    user = getattr(spawner, "user", None)
    groups = [getattr(g, "name", g) for g in (getattr(user, "groups", None) or [])]
    groups = [g for g in groups if g not in (idle_teams or {})]
    return groups, bool(getattr(user, "admin", False))


async def users_profiles(source: ProfileSource, spawner) -> list[dict]:
    """The service's profiles open to the spawner's user, in the service's order."""
    profiles = await source.profiles()
    return catalog.usable(profiles, *hub_access(spawner, source.idle_teams))


def _source(service_url: str, token: str, ttl: float, source: ProfileSource | None):
    return source if source is not None else ProfileSource(service_url, token, ttl)


def kubespawner_profile_list(
    service_url: str, token: str, ttl: float = 60.0, source: ProfileSource | None = None
):
    """A callable for ``c.KubeSpawner.profile_list``: the profiles open to the spawner's
    user (KubeSpawner then refuses any other slug, and defaults to the first of these
    when none is marked default)."""
    source = _source(service_url, token, ttl, source)

    async def profile_list(spawner) -> list[dict]:
        profiles = await users_profiles(source, spawner)
        models = await source.models()
        default = catalog.default_of(profiles)
        return [kubespawner_profile({**p, "default": p is default}, models) for p in profiles]

    profile_list.source = source
    return profile_list


def profiles_options_form(
    service_url: str, token: str, ttl: float = 60.0, source: ProfileSource | None = None
):
    """A callable for ``c.Spawner.options_form``: a choice of the service's profiles
    open to the spawner's user."""
    source = _source(service_url, token, ttl, source)

    async def options_form(spawner) -> str:
        profiles = await users_profiles(source, spawner)
        if not profiles:
            return ""
        models = await source.models()
        default = catalog.default_of(profiles)
        rows = []
        for p in profiles:
            checked = " checked" if p is default else ""
            rows.append(
                f'<label class="maas-profile" style="display:block;margin:.5em 0">'
                f'<input type="radio" name="profile" value="{escape(p["slug"])}"{checked}> '
                f"<strong>{escape(p['display_name'])}</strong><br>"
                f"{profile_html(p, models)}</label>"
            )
        return "<p>Choose a notebook profile:</p>" + "".join(rows)

    options_form.source = source
    return options_form


def profile_gate(source: ProfileSource):
    """An async check for the hub's ``Spawner.pre_spawn_hook`` (every start: the spawn
    form, a hand-made POST to it, the hub's REST API, the MaaS service's): refuse, with a
    sentence the hub shows, a profile that does not exist or is not open to the user's
    hub groups, and any start by a user to whom no profile is open. If the service's
    profiles cannot be had at all, the start goes on: the service checks again before
    it gives the server a key."""

    async def check(spawner) -> None:
        profiles = await source.profiles()
        if not profiles:
            return
        slug = (getattr(spawner, "user_options", None) or {}).get("profile") or None
        idle = source.idle_teams
        try:
            catalog.choose(profiles, slug, *hub_access(spawner, idle), "start a server with")
        except catalog.ProfileRefused as e:
            message = catalog.with_terms(e.message, profiles, slug, idle)
            raise web.HTTPError(e.status, message) from None

    check.source = source
    return check


def options_from_form(formdata: dict) -> dict:
    """Record the chosen profile's slug in ``user_options``."""
    slug = (formdata.get("profile") or [""])[0]
    return {"profile": slug} if slug else {}

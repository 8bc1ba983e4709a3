"""Profiles for spawners. KubeSpawner is the real ``jupyterhub-kubespawner`` package;
Kubernetes cannot run here, so it gets a kubeconfig naming a closed loopback port and
its ``_mock`` switch: rendering the form and applying a profile make no API calls."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

import pytest
from pg import free_port
from tornado.web import HTTPError

from hub_service.catalog import DEFAULT_PROFILES
from hub_service.spawner import (
    ProfileSource,
    budget_line,
    kubespawner_profile,
    kubespawner_profile_list,
    models_line,
    options_from_form,
    profile_gate,
    profiles_options_form,
)

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""
# kubernetes_asyncio reads $KUBECONFIG when imported, so set it first.
_kubeconfig = Path(tempfile.mkdtemp(prefix="maas-kube-")) / "config"
_kubeconfig.write_text(KUBECONFIG)
os.environ["KUBECONFIG"] = str(_kubeconfig)
kubespawner = pytest.importorskip("kubespawner")


def test_a_maas_profile_becomes_a_kubespawner_profile_with_its_overrides():
    gpu = kubespawner_profile({**DEFAULT_PROFILES[2], "default": False})
    assert gpu["slug"] == "gpu-ml-ai" and gpu["display_name"] == "GPU - ML/AI"
    assert gpu["kubespawner_override"] == {
        "cpu_limit": 4,
        "cpu_guarantee": 2,
        "mem_limit": "32G",
        "mem_guarantee": "8G",
        "extra_resource_limits": {"nvidia.com/gpu": "1"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    }


def _spawner(profile_list):
    spawner = kubespawner.KubeSpawner(_mock=True)
    spawner.profile_list = profile_list
    return spawner


def test_kubespawner_renders_the_profiles_and_applies_the_chosen_overrides():
    profiles = [{**p, "default": p.get("is_default", False)} for p in DEFAULT_PROFILES]
    source_list = [kubespawner_profile(p) for p in profiles]

    async def go():
        spawner = _spawner(lambda s: source_list)
        form = await spawner.options_form(spawner)
        for p in profiles:
            assert p["display_name"] in form
        spawner.user_options = {"profile": "gpu-ml-ai"}
        await spawner.load_user_options()
        return spawner

    spawner = asyncio.run(go())
    assert spawner.cpu_limit == 4 and spawner.cpu_guarantee == 2
    assert spawner.mem_limit == 32 * 1024**3  # KubeSpawner reads "G" as GiB
    assert spawner.extra_resource_limits == {"nvidia.com/gpu": "1"}
    assert spawner.tolerations[0]["key"] == "nvidia.com/gpu"


def test_the_profile_list_keeps_the_last_good_list_when_the_service_is_down():
    """(Fetching from the real service through the hub is tested in tests/stack.)"""
    down = f"http://127.0.0.1:{free_port()}/services/maas/"
    profile_list = kubespawner_profile_list(down, token="not-checked")
    source = profile_list.source

    async def go():
        # a list fetched earlier, now expired: the next call asks the (down) service
        source._profiles = [{**p, "default": False} for p in DEFAULT_PROFILES]
        source._fetched = float("-inf")
        return await profile_list(None)

    listed = asyncio.run(go())
    assert [p["slug"] for p in listed] == ["cpu-standard", "cpu-large", "gpu-ml-ai"]


def test_without_any_list_the_spawn_form_is_empty_rather_than_broken():
    form = profiles_options_form(f"http://127.0.0.1:{free_port()}/services/maas/", "t")
    assert asyncio.run(form(None)) == ""


def test_the_form_choice_is_recorded_in_user_options():
    assert options_from_form({"profile": ["cpu-large"]}) == {"profile": "cpu-large"}
    assert options_from_form({}) == {}


# -- the models and budget lines --------------------------------------------------------

CATALOG = ["echo-large", "smollm2-135m"]  # the enabled models' names, as GET models has them
HOSTILE = {
    "slug": "evil",
    "display_name": "<script>alert('name')</script>",
    "description": "<img src=x onerror=alert(1)>",
    "resources": {"cpu_limit": 1, "mem_limit": "1G"},
    "default": False,
    "models": ["*"],
    "budgets": [],
}


def _profiles() -> list[dict]:
    return [{**p, "default": p.get("is_default", False)} for p in DEFAULT_PROFILES]


def test_a_profile_says_which_enabled_models_it_allows():
    allowed = {"models": ["smollm2-135m", "not-in-the-catalog"]}
    assert models_line(allowed, CATALOG) == "Models: smollm2-135m"
    assert models_line({"models": ["*"]}, CATALOG) == (
        "Models: all enabled (echo-large, smollm2-135m)"
    )
    assert models_line({"models": []}, CATALOG) == "Models: none"
    many = [f"m{i:02}" for i in range(11)]
    assert models_line({"models": ["*"]}, many).endswith("m07 and 3 more)")


def test_a_profile_states_its_budget_and_limits():
    assert budget_line({"budgets": [{"window": "week", "usd": 1234.5}]}) == (
        "Budget: $1,234.50 per week"
    )
    assert budget_line({"budgets": []}) == "Budget: no limit"
    limited = {
        "budgets": [{"window": "day", "usd": 1}, {"window": "month", "usd": 10}],
        "rpm_limit": 60,
        "tpm_limit": 20000,
    }
    assert budget_line(limited) == (
        "Budget: $1.00 per day, $10.00 per month; at most 60 requests and 20,000 tokens a minute"
    )


def _cached(form_or_list, profiles, models):
    """Give a form's (or list's) source a fresh copy of the service's answers."""
    source = form_or_list.source
    source._profiles, source._models, source._fetched = profiles, models, time.monotonic()


def test_the_spawn_form_shows_each_profiles_resources_models_and_budget_escaped():
    form = profiles_options_form(f"http://127.0.0.1:{free_port()}/services/maas/", "t")
    _cached(form, [*_profiles(), HOSTILE], CATALOG)
    html = asyncio.run(form(None))
    assert html.count('type="radio"') == 4
    assert '<small class="maas-resources">2 cores, 4GB</small>' in html
    assert html.count("Models: all enabled (echo-large, smollm2-135m)") == 4
    assert "Budget: $10.00 per month" in html and "Budget: $100.00 per month" in html
    assert "Budget: no limit" in html
    # the profile's own text is text, never markup
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_kubespawner_shows_the_models_and_budget_lines_escaped():
    """KubeSpawner's own template does not escape a profile's name or description."""
    profile_list = kubespawner_profile_list(f"http://127.0.0.1:{free_port()}/", "t")
    _cached(profile_list, [_profiles()[0], HOSTILE], ["smollm2-135m"])

    async def go():
        spawner = _spawner(profile_list)
        return await spawner.options_form(spawner)

    html = asyncio.run(go())
    assert "Models: all enabled (smollm2-135m)" in html
    assert "Budget: $10.00 per month" in html and "Budget: no limit" in html
    assert "<script>alert" not in html and "<img" not in html  # (it has a script of its own)
    assert "&lt;script&gt;alert" in html


# -- each user's profiles ----------------------------------------------------------------


def _member_of(spawner, *groups, admin=False):
    """KubeSpawner's own test user, in these hub groups (as the hub's User has them)."""
    spawner.user.groups = [type("Group", (), {"name": g})() for g in groups]
    spawner.user.admin = admin
    return spawner


def test_kubespawner_offers_and_applies_only_the_users_profiles():
    """A profile for other groups is neither offered nor applied: KubeSpawner refuses a
    slug outside the user's list, and the hub's gate says why before it gets there."""
    profiles = _profiles()
    profiles[2] = {**profiles[2], "groups": ["staff"]}  # gpu-ml-ai
    profile_list = kubespawner_profile_list(f"http://127.0.0.1:{free_port()}/", "t")
    _cached(profile_list, profiles, CATALOG)
    gate = profile_gate(profile_list.source)

    async def as_user(*groups, admin=False):
        spawner = _member_of(_spawner(profile_list), *groups, admin=admin)
        form = await spawner.options_form(spawner)
        spawner.user_options = {"profile": "gpu-ml-ai"}
        try:
            await gate(spawner)
            await spawner.load_user_options()
        except (HTTPError, ValueError) as e:
            return form, e
        return form, spawner

    form, refused = asyncio.run(as_user("cs101"))
    assert "CPU - Standard" in form and "GPU - ML/AI" not in form
    assert isinstance(refused, HTTPError) and refused.status_code == 403
    assert "not open to you" in refused.log_message
    for allowed in (asyncio.run(as_user("staff")), asyncio.run(as_user(admin=True))):
        form, spawner = allowed
        assert "GPU - ML/AI" in form and spawner.extra_resource_limits == {"nvidia.com/gpu": "1"}


def test_the_gate_lets_a_start_through_when_the_service_never_answered():
    """The service checks again before it gives the server a key."""
    gate = profile_gate(ProfileSource(f"http://127.0.0.1:{free_port()}/", "t"))

    async def start():
        spawner = _member_of(_spawner([]), "cs101")
        spawner.user_options = {"profile": "anything"}
        return await gate(spawner)

    assert asyncio.run(start()) is None

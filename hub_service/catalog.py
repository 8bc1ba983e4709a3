"""The model catalog and notebook profiles: seeds, entitlements and prices."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import CatalogModel, Profile

ALL_MODELS = "*"

# The three profiles a new installation starts with (``MaaSService.seed_profiles``
# writes them into an empty table). Which models each may use is part of the profile;
# "*" means every enabled model in the catalog.
DEFAULT_PROFILES: list[dict] = [
    {
        "slug": "cpu-standard",
        "display_name": "CPU - Standard",
        "description": "2 cores, 4 GB: everyday notebooks.",
        "resources": {
            "cpu_limit": 2,
            "cpu_guarantee": 0.5,
            "mem_limit": "4G",
            "mem_guarantee": "1G",
        },
        "is_default": True,
        "models": [ALL_MODELS],
        "budgets": [{"window": "month", "usd": 10.0}],
    },
    {
        "slug": "cpu-large",
        "display_name": "CPU - Large",
        "description": "4 cores, 16 GB: bigger data in memory.",
        "resources": {
            "cpu_limit": 4,
            "cpu_guarantee": 1,
            "mem_limit": "16G",
            "mem_guarantee": "4G",
        },
        "models": [ALL_MODELS],
        "budgets": [{"window": "month", "usd": 25.0}],
    },
    {
        "slug": "gpu-ml-ai",
        "display_name": "GPU - ML/AI",
        "description": "4 cores, 32 GB and one NVIDIA GPU: training and inference.",
        "resources": {
            "cpu_limit": 4,
            "cpu_guarantee": 2,
            "mem_limit": "32G",
            "mem_guarantee": "8G",
            "gpu": 1,
            "tolerations": [
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
            ],
        },
        "models": [ALL_MODELS],
        "budgets": [{"window": "month", "usd": 100.0}],
    },
]

# Fields of a model that anyone signed in may read. Backend details (api_base, the
# key's variable name, extra LiteLLM parameters) are for admins and the gateway only.
PUBLIC_MODEL_FIELDS = (
    "name",
    "mode",
    "description",
    "context_window",
    "max_output_tokens",
    "capabilities",
    "input_cost_per_token",
    "output_cost_per_token",
    "enabled",
)


def seed(session: Session, models: Iterable[dict], profiles: Iterable[dict]) -> None:
    """Fill an empty catalog and an empty profile table; leave existing rows alone.

    Seeding happens once: after that the database is the source of truth and admins
    change it through the API.
    """
    if session.scalar(select(CatalogModel.id).limit(1)) is None:
        for spec in models:
            session.add(CatalogModel(**spec))
    if session.scalar(select(Profile.id).limit(1)) is None:
        for spec in profiles:
            session.add(Profile(**spec))
    session.flush()


def model_public(model: CatalogModel) -> dict:
    return {field: getattr(model, field) for field in PUBLIC_MODEL_FIELDS}


def profile_public(profile: Profile) -> dict:
    return {
        "slug": profile.slug,
        "display_name": profile.display_name,
        "description": profile.description,
        "resources": profile.resources,
        "default": profile.is_default,
        "models": profile.models,
        "budgets": profile.budgets or [],
        "rpm_limit": profile.rpm_limit,
        "tpm_limit": profile.tpm_limit,
        "groups": profile.groups or [],
    }


def _groups_of(profile) -> list[str]:
    """A profile's groups, from a row or from its public form (``profile_public``)."""
    groups = profile.get("groups") if isinstance(profile, dict) else profile.groups
    return groups or []


def open_to(profile, groups: Iterable[str], admin: bool) -> bool:
    """Whether a hub user in ``groups`` (a hub admin if ``admin``) may use ``profile``
    (a row or its public form): start a server with it and have keys under its policy.
    A profile that names no groups is everyone's; hub admins may use any."""
    allowed = _groups_of(profile)
    return admin or not allowed or not set(allowed).isdisjoint(groups)


def usable(profiles: Iterable, groups: Iterable[str], admin: bool) -> list:
    """The ``profiles`` (rows or public forms, in their order) open to such a user."""
    groups = list(groups)
    return [p for p in profiles if open_to(p, groups, admin)]


def default_of(profiles: list) -> object | None:
    """The default among ``profiles`` (rows or public forms, in the service's order): the
    one marked default, else the first; how a user's usable profiles give the profile of
    a server started without one and of personal keys (KubeSpawner picks the same)."""
    marked = [p for p in profiles if (p.get("default") if isinstance(p, dict) else p.is_default)]
    return (marked or profiles or [None])[0]


class ProfileRefused(Exception):
    """A profile the caller may not have: an HTTP status and a sentence naming theirs."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _slug(profile) -> str:
    return profile["slug"] if isinstance(profile, dict) else profile.slug


def choose(profiles: list, slug: str | None, groups: Iterable[str], admin: bool, doing: str):
    """The profile ``slug`` among ``profiles`` (rows or public forms, in the service's
    order) if it is open to a user in ``groups`` (their default if ``slug`` is None);
    ``ProfileRefused`` otherwise: 403 when no profile or not that one is open to them
    (``doing``: what they may then not do with it), 400 when there is no such profile.
    The one rule for the hub's check of a start and the service's answers."""
    mine = usable(profiles, groups, admin)
    if not mine:
        raise ProfileRefused(
            403,
            "No notebook profile is open to you (your hub groups are not among any "
            "profile's): ask your JupyterHub admin.",
        )
    if slug is None:
        return default_of(mine)
    found = next((p for p in mine if _slug(p) == slug), None)
    if found is not None:
        return found
    yours = ", ".join(_slug(p) for p in mine)
    if any(_slug(p) == slug for p in profiles):
        raise ProfileRefused(
            403,
            f"The profile {slug!r} is not open to you (it is for other hub groups), so "
            f"you may not {doing} it; yours: {yours}.",
        )
    raise ProfileRefused(400, f"There is no profile {slug!r}; yours: {yours}.")


def with_terms(message: str, profiles: list, slug: str | None, resting: dict[str, str]) -> str:
    """A refusal's ``message``, with why when the profile ``slug`` is open to teams of
    the user's that are outside their terms (``resting``: team -> why)."""
    found = next((p for p in profiles if _slug(p) == slug), None)
    why = [resting[g] for g in _groups_of(found) if g in resting] if found else []
    return f"{message} {why[0]}" if why else message


def profiles_for(session: Session, groups: Iterable[str], admin: bool) -> list[Profile]:
    """The profiles open to a hub user in ``groups``, in the service's order."""
    return usable(session.scalars(select(Profile).order_by(Profile.id)).all(), groups, admin)


def entitled(allowed: Iterable[str], model_name: str) -> bool:
    allowed = list(allowed)
    return ALL_MODELS in allowed or model_name in allowed


def allowed_model_names(allowed: Iterable[str], catalog: Iterable) -> list[str]:
    """The enabled catalog models (anything with ``name`` and ``enabled``) a list of
    entitlements grants, sorted."""
    allowed = list(allowed)
    return sorted(m.name for m in catalog if m.enabled and entitled(allowed, m.name))


def granted(session: Session, allowed: Iterable[str]) -> list[str]:
    """The enabled models of the catalog in the database that entitlements grant."""
    return allowed_model_names(allowed, session.scalars(select(CatalogModel)).all())


def request_cost(
    input_cost_per_token: float,
    output_cost_per_token: float,
    prompt_tokens: int,
    completion_tokens: int,
) -> float:
    """What a request costs at the catalog's prices."""
    return prompt_tokens * input_cost_per_token + completion_tokens * output_cost_per_token

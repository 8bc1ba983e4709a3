"""Admins cannot aim the gateway at its own secrets: the rules on a catalog model's
backend fields, which the admin API, the service's seed models and the gateway share."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from gatewayproc import MOCK_SMALL

from hub_service.local import LocalSettings, smollm2_catalog_entry
from hub_service.validation import (
    MODEL_FIELDS,
    PROFILE_FIELDS,
    BackendRules,
    Invalid,
    backend_rules,
    check_backend,
    validate,
)

MODEL = {"name": "m", "provider_model": "openai/m"}


def refusal(**backend) -> str:
    """The sentence ``check_backend`` refuses ``backend`` with; the admin API's must be
    the same."""
    fields = {"provider_model": "openai/m", "api_base": None, "api_key_env": None}
    fields |= {"extra_params": {}} | backend
    with pytest.raises(Invalid) as checked:
        check_backend(**fields)
    body = {**MODEL, **{k: v for k, v in backend.items() if v is not None}}
    with pytest.raises(Invalid) as validated:
        validate(body, MODEL_FIELDS)
    assert str(checked.value) == str(validated.value)
    return str(checked.value)


@pytest.mark.parametrize("name", ["MAAS_DB_URL", "LITELLM_MASTER_KEY", "JUPYTERHUB_API_TOKEN"])
def test_api_key_env_cannot_name_the_gateways_own_secrets(name):
    message = refusal(api_key_env=name)
    assert "begins with MAAS_BACKEND_" in message
    check_backend("openai/m", None, "MAAS_BACKEND_VLLM_KEY", {})


def test_api_key_env_prefixes_are_configurable_but_never_reach_the_own_secrets():
    rules = backend_rules({"MAAS_BACKEND_KEY_ENV_PREFIXES": "VLLM_, MAAS_"})
    assert rules.key_env_prefixes == ("VLLM_", "MAAS_")
    check_backend("openai/m", None, "VLLM_KEY", {}, rules)
    with pytest.raises(Invalid, match="begins with VLLM_ or MAAS_"):
        check_backend("openai/m", None, "MAAS_DB_URL", {}, rules)
    assert backend_rules({"MAAS_BACKEND_KEY_ENV_PREFIXES": " "}) == BackendRules()


def test_a_key_pasted_into_api_key_env_is_not_echoed():
    for pasted in ("sk-proj-abc123", "ABCDEF0123456789"):
        assert pasted not in refusal(api_key_env=pasted)


@pytest.mark.parametrize(
    "api_base",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",
        "http://[fe80::1]:8000/v1",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/latest/",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://Metadata.Goog./",
        # names the resolver turns into the metadata address
        "http://2852039166/",
        "http://0xa9fea9fe/",
        "http://0251.0376.0251.0376/",
    ],
)
def test_api_base_cannot_reach_link_local_or_cloud_metadata(api_base):
    assert "link-local or cloud metadata" in refusal(api_base=api_base)


def test_api_base_takes_ordinary_and_unresolvable_hosts_but_no_credentials():
    for ok in (
        "http://127.0.0.1:8090/v1",
        "https://api.openai.com/v1",
        "http://vllm.no-such-domain.invalid:8000/v1",
    ):
        check_backend("openai/m", ok, None, {})
    message = refusal(api_base="http://user:s3cret@vllm:8000/v1")
    assert "may not hold a user or password" in message and "s3cret" not in message


def test_api_base_can_be_restricted_to_listed_hosts():
    rules = backend_rules({"MAAS_BACKEND_HOSTS": "vllm.internal, 127.0.0.1"})
    check_backend("openai/m", "http://VLLM.internal.:8000/v1", None, {}, rules)
    check_backend("openai/m", "http://127.0.0.1:8090/v1", None, {}, rules)
    with pytest.raises(Invalid, match="host api.openai.com is not an allowed backend host"):
        check_backend("openai/m", "https://api.openai.com/v1", None, {}, rules)
    # the listed hosts never open the metadata service
    rules = backend_rules({"MAAS_BACKEND_HOSTS": "169.254.169.254"})
    with pytest.raises(Invalid, match="link-local or cloud metadata"):
        check_backend("openai/m", "http://169.254.169.254/", None, {}, rules)


@pytest.mark.parametrize(
    "params, says",
    [
        ({"api_base": "http://169.254.169.254/"}, "may not set api_base"),
        ({"base_url": "http://x/"}, "may not set base_url"),
        ({"input_cost_per_token": 0}, "may not set input_cost_per_token"),
        ({"api_key": "sk-x"}, "may not hold secrets (api_key)"),
        ({"timeout": "soon"}, "extra_params.timeout must be a number"),
        ({"mock_response": "os.environ/MAAS_DB_URL"}, "os.environ/"),
        ({"stop": ["end", " OS.ENVIRON/LITELLM_MASTER_KEY"]}, "os.environ/"),
    ],
)
def test_extra_params_take_only_listed_keys_and_no_environment_reference(params, says):
    assert says in refusal(extra_params=params)


def test_provider_model_cannot_be_an_environment_reference():
    assert "must name a model" in refusal(provider_model="os.environ/MAAS_DB_URL")


def test_the_local_demos_and_the_tests_seed_models_pass():
    settings = LocalSettings.from_env({"MAAS_LOCAL_STATE_DIR": "/tmp/unused"})
    for spec in (smollm2_catalog_entry(settings), MOCK_SMALL):
        validate(spec, MODEL_FIELDS)


def test_the_service_refuses_to_start_on_a_refused_seed_model(tmp_path):
    bad = {**MODEL, "name": "leaky", "api_key_env": "MAAS_DB_URL"}
    config = tmp_path / "maas_config.py"
    config.write_text(f"c.MaaSService.seed_models = {json.dumps([bad])}\n")
    db = tmp_path / "maas.sqlite"
    r = subprocess.run(
        [sys.executable, "-m", "hub_service", "--config", str(config), f"--db-url=sqlite:///{db}"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert r.returncode == 1
    [line] = [line for line in r.stderr.splitlines() if line.strip()]
    assert "Not starting: seed model 'leaky': api_key_env must be the name" in line
    assert "Traceback" not in r.stderr and not db.exists()


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"slug": "cpu\n", "display_name": "CPU"}, "slug"),
        ({"slug": "cpu", "display_name": "CPU", "models": ["m\n"]}, "models"),
    ],
)
def test_a_trailing_newline_is_not_a_valid_name(fields, field):
    """Patterns match the whole value: a regular expression's ``$`` alone would let
    ``"cpu\\n"`` through."""
    with pytest.raises(Invalid, match=field):
        validate(fields, PROFILE_FIELDS)

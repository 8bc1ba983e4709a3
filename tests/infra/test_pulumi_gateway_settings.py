"""``maas:gateway``: the gateway's settings in the stack's config, named from the same
table as MaaSGateway's traits (hub_service/gateway/settings.py), checked, and set on the
gateway's Deployment: plain ones as ``--MaaSGateway.<name>=`` arguments, secret ones
from a Secret. Under Pulumi's mock engine (deploy.py)."""

from __future__ import annotations

import pytest
from deploy import CONFIG, SECRET_SIG, SECRETS, deploy

from hub_service.gateway import settings
from hub_service.gateway.app import MaaSGateway

WEBHOOK = "https://hooks.example.org/services/T0/fake-webhook-secret-0001"
METRICS = "fake-metrics-token-0001"
GATEWAY = {
    "refreshInterval": 1.5,
    "maxInFlight": 16,
    "keyLookupBurst": 50,
    "backendHosts": ["vllm.internal", "api.openai.com"],
    "backendKeyEnvPrefixes": ["VLLM_", "MAAS_BACKEND_"],
    "budgetTimezone": "Europe/Berlin",
}


def _container(d, name: str) -> dict:
    (c,) = d.one("kubernetes:apps/v1:Deployment", name).plain["spec"]["template"]["spec"][
        "containers"
    ]
    return c


@pytest.fixture(scope="module")
def tuned():
    return deploy({**CONFIG, "gateway": GATEWAY}, SECRETS)


def test_the_knobs_are_the_gateways_settings():
    from maas_infra.config import GATEWAY_KNOBS

    assert sorted(GATEWAY_KNOBS) == sorted(s.knob for s in settings.SETTINGS)
    assert {"refreshInterval", "maxInFlight", "alertWebhookUrl", "metricsToken"} <= set(
        GATEWAY_KNOBS
    )


def test_plain_settings_are_the_gateways_command_line(tuned):
    c = _container(tuned, "gateway-deployment")
    args = c["command"][3:]
    assert "--MaaSGateway.refresh_interval=1.5" in args
    assert "--MaaSGateway.max_in_flight=16" in args
    assert "--MaaSGateway.key_lookup_burst=50" in args
    hosts = [a for a in args if a.startswith("--MaaSGateway.backend_hosts=")]
    assert hosts == [
        "--MaaSGateway.backend_hosts=vllm.internal",
        "--MaaSGateway.backend_hosts=api.openai.com",
    ]
    # ... which MaaSGateway takes as it would from the pod's command
    app = MaaSGateway()
    app.initialize(args)
    assert app.refresh_interval == 1.5 and app.max_in_flight == 16
    assert app.backend_hosts == ["vllm.internal", "api.openai.com"]
    assert app.backend_key_env_prefixes == ["VLLM_", "MAAS_BACKEND_"]
    # the service checks the catalog by the same rules and reports windows on the same
    # clock; the gateway's other settings are not the service's
    env = {e["name"]: e.get("value") for e in _container(tuned, "service-deployment")["env"]}
    assert env["MAAS_BACKEND_HOSTS"] == "vllm.internal,api.openai.com"
    assert env["MAAS_BACKEND_KEY_ENV_PREFIXES"] == "VLLM_,MAAS_BACKEND_"
    assert env["MAAS_BUDGET_TIMEZONE"] == "Europe/Berlin"
    assert "MAAS_MAX_IN_FLIGHT" not in env and "MAAS_REFRESH_INTERVAL" not in env


def test_without_settings_the_gateway_runs_on_its_defaults():
    d = deploy(CONFIG, SECRETS)
    c = _container(d, "gateway-deployment")
    assert not [a for a in c["command"] if a.startswith("--MaaSGateway.")]
    env = {e["name"]: e for e in c["env"]}
    # the metrics token is still a random one, from the gateway's Secret
    assert env["MAAS_METRICS_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "maas-gateway",
        "key": "metrics-token",
    }
    assert "MAAS_ALERT_WEBHOOK_URL" not in env
    service_env = {e["name"] for e in _container(d, "service-deployment")["env"]}
    assert "MAAS_BACKEND_HOSTS" not in service_env


def test_secret_settings_reach_the_gateway_only_from_a_secret():
    d = deploy(
        CONFIG,
        {**SECRETS, "gateway": {**GATEWAY, "alertWebhookUrl": WEBHOOK, "metricsToken": METRICS}},
    )
    secret = d.one("kubernetes:core/v1:Secret", "gateway-secret").plain
    assert secret["stringData"] == {"alert-webhook-url": WEBHOOK, "metrics-token": METRICS}
    c = _container(d, "gateway-deployment")
    env = {e["name"]: e for e in c["env"]}
    pairs = (
        ("MAAS_ALERT_WEBHOOK_URL", "alert-webhook-url"),
        ("MAAS_METRICS_TOKEN", "metrics-token"),
    )
    for var, key in pairs:
        assert env[var] == {
            "name": var,
            "valueFrom": {"secretKeyRef": {"name": "maas-gateway", "key": key}},
        }
    assert "--MaaSGateway.max_in_flight=16" in c["command"]  # the plain ones still are
    for r in d.resources:
        if r.type != "kubernetes:core/v1:Secret":
            text = repr(r.plain)
            assert WEBHOOK not in text and METRICS not in text, r.name
    # ... and every value of the Secret is a Pulumi secret (encrypted in the state)
    data = d.one("kubernetes:core/v1:Secret", "gateway-secret").inputs["stringData"]
    assert data.get(SECRET_SIG) or all(
        isinstance(v, dict) and v.get(SECRET_SIG) for v in data.values()
    )


@pytest.mark.parametrize(
    ("gateway", "message"),
    [
        (
            {"refreshIntervall": 1},
            r"maas:gateway has no setting refreshIntervall: the settings are alertThreshold, "
            r"alertWebhookUrl, backendHosts, .*usageQueue",
        ),
        ({"maxInFlight": "many"}, r"maas:gateway.maxInFlight is 'many': it must be a whole"),
        ({"maxInFlight": 2.5}, r"maas:gateway.maxInFlight is 2.5: it must be a whole number"),
        ({"backendHosts": "a.example"}, r"maas:gateway.backendHosts .* a list of strings"),
        (
            {"backendKeyEnvPrefixes": ["VLLM_"]},
            r"backendKeyEnvPrefixes must keep 'MAAS_BACKEND_': the gateway gets maas:backendKeys",
        ),
        (["refreshInterval"], r"maas:gateway must be a map of settings: alertThreshold"),
    ],
)
def test_a_wrong_setting_is_refused_naming_the_valid_ones(gateway, message):
    with pytest.raises(Exception, match=message):
        deploy({**CONFIG, "gateway": gateway}, SECRETS)

"""The gateway's settings have one way in: ``MaaSGateway``'s traits (command line, config
file, or their environment variables), made from one table (``settings.SETTINGS``) that
the plugin inside the LiteLLM proxy reads them back with."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from pg import free_port

from hub_service import validation, windows
from hub_service.gateway import plugin, settings
from hub_service.gateway.app import MaaSGateway, spawn
from hub_service.gateway.settings import SETTINGS

GATEWAY = Path(plugin.__file__).parent
# read from the environment by the gateway, but not settings an admin chooses: the
# database (a trait of its own), the benchmarks' switch (MaaSGateway.plugin) and the
# process tests' clock (db.py: a file holding seconds to add to the clock)
NOT_SETTINGS = {"MAAS_DB_URL", "MAAS_GATE", "MAAS_CLOCK_OFFSET_FILE"}


@pytest.fixture
def gateway_app(tmp_path, monkeypatch):
    """A fresh ``MaaSGateway`` in an empty directory (no config file), with none of the
    settings' variables in its environment."""
    monkeypatch.chdir(tmp_path)
    for s in SETTINGS:
        monkeypatch.delenv(s.env, raising=False)

    def make(*argv: str) -> MaaSGateway:
        app = MaaSGateway()
        app.initialize(list(argv))
        return app

    return make


def test_help_all_lists_every_setting_with_its_help_and_variable():
    out = subprocess.run(
        [sys.executable, "-m", "hub_service.gateway", "--help-all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(out.split())
    for s in SETTINGS:
        assert f"--MaaSGateway.{s.name}=" in out, s.name
        assert " ".join(s.help.split()) in flat, s.name
        assert f"Default: ${s.env} if set, else {s.default!r}" in out, s.name
    names = [s.name for s in SETTINGS]
    assert names == sorted(names)  # alphabetised, like every trait


def test_without_anything_set_every_setting_has_its_default(gateway_app):
    app = gateway_app()
    assert app.settings() == {s.name: s.default for s in SETTINGS}
    assert app.refresh_interval == 2.0 and app.max_in_flight == 64


def test_an_environment_variable_overrides_the_default(gateway_app, monkeypatch):
    monkeypatch.setenv("MAAS_REFRESH_INTERVAL", "0.5")
    monkeypatch.setenv("MAAS_BACKEND_HOSTS", "vllm.internal, api.openai.com")
    monkeypatch.setenv("MAAS_KEY_LOOKUP_BURST", "7")
    app = gateway_app()
    assert app.refresh_interval == 0.5
    assert app.backend_hosts == ["vllm.internal", "api.openai.com"]
    assert app.key_lookup_burst == 7
    # ... and the command line overrides the environment
    assert gateway_app("--MaaSGateway.refresh_interval=3").refresh_interval == 3.0


def test_a_bad_value_in_the_environment_is_a_sentence_not_a_traceback(
    gateway_app, monkeypatch, capsys
):
    monkeypatch.setenv("MAAS_MAX_IN_FLIGHT", "lots")
    with pytest.raises(SystemExit):
        gateway_app()
    assert "$MAAS_MAX_IN_FLIGHT is 'lots': it must be a whole number." in capsys.readouterr().err


def test_settings_from_the_command_line_and_config_file_reach_the_plugin(
    gateway_app, tmp_path, monkeypatch
):
    """Given a trait on the command line and others in a config file, when the app
    builds the proxy's environment, then the plugin, reading that environment, has them."""
    (tmp_path / "gw.py").write_text(
        "c.MaaSGateway.metrics_token = 'token-from-config'\n"
        "c.MaaSGateway.alert_webhook_url = 'https://hooks.example.org/T0/secret'\n"
        "c.MaaSGateway.max_body_bytes = 1000\n"
        "c.MaaSGateway.refresh_interval = 9\n"
    )
    app = gateway_app(
        "--config",
        "gw.py",
        "--MaaSGateway.refresh_interval=0.25",  # the command line beats the file
        "--MaaSGateway.key_lookup_rate=5",
        "--MaaSGateway.backend_hosts=vllm.internal",
        "--MaaSGateway.backend_hosts=api.openai.com",
        "--MaaSGateway.backend_key_env_prefixes=VLLM_",
    )
    env = app.proxy_env({"MAAS_MAX_IN_FLIGHT": "3", "PATH": "/bin"})
    assert env["MAAS_REFRESH_INTERVAL"] == "0.25"
    assert env["MAAS_BACKEND_HOSTS"] == "vllm.internal,api.openai.com"
    assert env["PATH"] == "/bin"
    # every setting is passed down, so nothing falls back to a different default there
    assert {s.env for s in SETTINGS} <= set(env)

    monkeypatch.setattr(plugin.os, "environ", env)
    assert plugin.gate_settings() == {
        "max_body_bytes": 1000,
        "max_in_flight": 64,  # the app's own environment had none: the table's default
        "max_staleness": 600.0,
        "metrics_token": "token-from-config",
    }
    monkeypatch.setattr(plugin, "_state", None)
    env["MAAS_DB_URL"] = f"sqlite:///{tmp_path / 'maas.sqlite'}"
    state = plugin.state()
    try:
        assert state.refresh_interval == 0.25
        assert state.lookups.rate == 5.0
        assert state.alerts.webhook_url == "https://hooks.example.org/T0/secret"
    finally:
        state.close()
        state.engine.dispose()
    # the service and the gateway read the backend rules with one function
    rules = validation.backend_rules(env)
    assert rules.hosts == ("vllm.internal", "api.openai.com")
    assert rules.key_env_prefixes == ("VLLM_",)
    validation.check_backend("openai/x", None, "VLLM_KEY", None, rules)
    with pytest.raises(validation.Invalid, match="MAAS_BACKEND_KEY_ENV_PREFIXES"):
        validation.check_backend("openai/x", None, "MAAS_BACKEND_KEY", None, rules)


def test_a_real_gateway_serves_with_the_settings_of_its_config_file(tmp_path, monkeypatch):
    """Given the metrics token in a config file and none in the environment, when the
    gateway starts (and execs LiteLLM with our plugin), then /maas/metrics answers the
    bearer of that token and refuses another."""
    monkeypatch.delenv("MAAS_METRICS_TOKEN", raising=False)
    config = tmp_path / "gateway_config.py"
    config.write_text("c.MaaSGateway.metrics_token = 'token-from-the-config-file'\n")
    proc, url = spawn(
        f"sqlite:///{tmp_path / 'maas.sqlite'}",
        free_port(),
        tmp_path / "gateway.log",
        args=["--config", str(config)],
    )
    try:
        good = requests.get(
            f"{url}/maas/metrics",
            headers={"Authorization": "Bearer token-from-the-config-file"},
            timeout=30,
        )
        bad = requests.get(
            f"{url}/maas/metrics", headers={"Authorization": "Bearer other"}, timeout=30
        )
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert good.status_code == 200 and "maas_gateway" in good.text
    assert bad.status_code == 403


@pytest.mark.parametrize("name", [s.name for s in SETTINGS if s.secret])
def test_a_secret_on_the_command_line_is_refused(gateway_app, name, capsys):
    with pytest.raises(SystemExit):
        gateway_app(f"--MaaSGateway.{name}=visible-in-ps")
    err = capsys.readouterr().err
    assert f"MaaSGateway.{name} is a secret" in err
    assert "visible-in-ps" not in err


def test_the_metrics_token_and_webhook_are_secrets():
    assert {s.name for s in SETTINGS if s.secret} == {"alert_webhook_url", "metrics_token"}
    # ... never shared with the service (which gets the shared ones as plain variables)
    assert not [s.name for s in SETTINGS if s.secret and s.shared]
    # ... and never a backend key's variable, whatever the prefixes
    rules = validation.BackendRules(key_env_prefixes=("MAAS_",))
    for s in SETTINGS:
        if s.secret:
            with pytest.raises(validation.Invalid, match="sends no other variable"):
                validation.check_backend("openai/x", None, s.env, None, rules)


# the modules the gateway loads (its app and the plugin inside LiteLLM), listed by a
# fresh interpreter, so that what other tests imported does not count
LOADED = """
import sys
import hub_service.gateway.app, hub_service.gateway.plugin
print("\\n".join(m.__file__ for n, m in sorted(sys.modules.items())
                 if n.startswith("hub_service") and getattr(m, "__file__", None)))
"""
# a MAAS_ word in those modules that names no variable: the backend key variables'
# default prefix
NOT_VARIABLES = {"MAAS_BACKEND_"}


def maas_words(source: str) -> set[str]:
    return set(re.findall(r"""["'](MAAS_\w+)["']""", source))


def test_the_gateway_names_no_maas_variable_outside_the_table():
    """A new ``MAAS_...`` variable in any module the gateway loads (``validation``'s
    backend rules, ``windows``' time zone, the plugin...) fails here: add it to
    settings.SETTINGS (and so to MaaSGateway's traits, --help-all, the Pulumi knob and
    docs/gateway-settings.md) instead."""
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    files = subprocess.run(
        [sys.executable, "-c", LOADED], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    names = {Path(f).name for f in files}
    assert {"plugin.py", "validation.py", "windows.py", "db.py"} <= names, names
    known = {s.env for s in SETTINGS} | NOT_SETTINGS | NOT_VARIABLES
    for path in map(Path, files):
        if path.name == "settings.py":
            continue
        unknown = maas_words(path.read_text()) - known
        assert not unknown, f"{path} names {sorted(unknown)} outside settings.SETTINGS"
    # the plugin names no setting's variable at all: it reads through the table
    assert maas_words((GATEWAY / "plugin.py").read_text()) <= {"MAAS_DB_URL"}
    # the scan does see a variable
    assert maas_words('x = os.environ.get("MAAS_NEW_KNOB", "1")') == {"MAAS_NEW_KNOB"}


def test_the_service_shares_the_backend_rules_and_the_time_zone():
    """The settings the service reads too are the table's, by variable."""
    shared = {s.name: s.env for s in SETTINGS if s.shared}
    assert shared == {
        "backend_hosts": validation.BACKEND_HOSTS_VAR,
        "backend_key_env_prefixes": validation.KEY_ENV_PREFIXES_VAR,
        "budget_timezone": windows.TIMEZONE_ENV,
    }
    default = settings.BY_NAME["backend_key_env_prefixes"].default
    assert validation.backend_rules({}).key_env_prefixes == tuple(default)


def test_knobs_are_camel_case():
    assert settings.BY_NAME["max_in_flight"].knob == "maxInFlight"
    assert settings.BY_NAME["alert_webhook_url"].knob == "alertWebhookUrl"


def test_the_settings_page_lists_every_setting():
    """docs/gateway-settings.md has a row per setting: its trait, variable and key."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "gateway-settings.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in page.splitlines() if "| `" in line}
    for s in SETTINGS:
        assert s.name in rows, s.name
        assert f"`{s.env}`" in rows[s.name] and f"`{s.knob}`" in rows[s.name], s.name

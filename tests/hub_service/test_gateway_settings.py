"""The gateway's settings have one way in: ``MaaSGateway``'s traits (command line, config
file, or their environment variables), made from one table (``settings.SETTINGS``) that
the plugin inside the LiteLLM proxy reads them back with."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from pg import free_port

from hub_service import validation
from hub_service.gateway import plugin, settings
from hub_service.gateway.app import MaaSGateway, spawn
from hub_service.gateway.settings import SETTINGS

GATEWAY = Path(plugin.__file__).parent
# read from the environment by the gateway, but not settings an admin chooses: the
# database (a trait of its own) and the benchmarks' switch (MaaSGateway.plugin)
NOT_SETTINGS = {"MAAS_DB_URL", "MAAS_GATE"}
READS = re.compile(r"""(?:environ(?:\.get)?\s*[\(\[]|getenv\()\s*["'](MAAS_\w+)""")


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
    # the service and the gateway read the backend hosts with one rule
    assert validation.backend_rules(env).hosts == ("vllm.internal", "api.openai.com")


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


def environment_reads(source: str) -> set[str]:
    return set(READS.findall(source))


def test_the_gateway_reads_no_maas_variable_outside_the_table():
    """A new ``os.environ.get("MAAS_...")`` in the gateway fails here: add it to
    settings.SETTINGS (and so to MaaSGateway's traits and the Pulumi knob) instead."""
    known = {s.env for s in SETTINGS} | NOT_SETTINGS
    for path in sorted(GATEWAY.glob("*.py")):
        if path.name == "settings.py":
            continue
        unknown = environment_reads(path.read_text()) - known
        assert not unknown, f"{path.name} reads {sorted(unknown)} outside settings.SETTINGS"
    # the plugin names no setting's variable at all: it reads through the table
    names = set(re.findall(r"MAAS_\w+", (GATEWAY / "plugin.py").read_text()))
    assert names <= {"MAAS_DB_URL"}, names
    # the scan does see a read
    assert environment_reads('x = os.environ.get("MAAS_NEW_KNOB", "1")') == {"MAAS_NEW_KNOB"}
    assert environment_reads("os.environ['MAAS_NEW_KNOB']") == {"MAAS_NEW_KNOB"}


def test_backend_hosts_is_the_variable_the_service_reads():
    assert settings.BY_NAME["backend_hosts"].env == validation.BACKEND_HOSTS_VAR


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

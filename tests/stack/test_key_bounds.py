"""Nothing a user can mint or send without limit, on the real hub, service and gateway:
kernels' keys are capped per server and follow their server's key; a replaced or
revoked server key heals within a minute and no new kernel starts with a dead one;
the personal-key cap holds under concurrency on PostgreSQL with two service
processes; metrics label values come from fixed sets, whatever clients send."""

from __future__ import annotations

import concurrent.futures
import re
import subprocess
import sys

import pytest
import requests
from pg import PostgresServer, free_port
from sqlalchemy import create_engine, text
from waiting import until

from hub_service.local import wait_for_url

CALL = (
    "from openai import OpenAI\n"
    "r = OpenAI().chat.completions.create(model='smollm2-135m', max_tokens=4,\n"
    "    messages=[{'role': 'user', 'content': 'Say hi'}])\n"
    "print(r.usage.total_tokens > 0)"
)


@pytest.fixture
def running(stack, request):
    """A user (named for the test) with a running default server and a hub token."""
    with stack.running(f"kb-{request.node.name[5:20].replace('_', '-')}") as user:
        user.token = user.create_token()
        yield user


def live_derived_keys(stack, user: str, server_key_id: str) -> int:
    """How many kernels' and terminals' keys of the server's key are alive."""
    return sum(k.parent_id == server_key_id and k.revoked_at is None for k in stack.key_rows(user))


def test_kernel_keys_are_capped_per_server_and_follow_its_expiry(stack, running):
    user, token = running.name, running.token
    key = until(lambda: stack.server_key(user, token), 30, "the server's key")
    base = f"users/{user}/keys/{key['id']}/kernels"
    # the key the server keeps ready for its next terminal has its place among them
    ready = until(lambda: live_derived_keys(stack, user, key["id"]), 30, "the next terminal's key")
    assert ready == 1
    for i in range(256 - ready):
        r = stack.api("PUT", f"{base}/kernel-{i}", token, json={"notebook_path": f"n{i}.ipynb"})
        assert r.status_code == 201, (i, r.text)
        if i == 0:
            first = r.json()
    r = stack.api("PUT", f"{base}/kernel-256", token, json={"notebook_path": "one-more.ipynb"})
    assert r.status_code == 429, r.text
    assert "256 kernels and terminals with keys of their own, the limit" in r.json()["message"]
    # an existing kernel's rename is no new key
    r = stack.api("PUT", f"{base}/kernel-3", token, json={"notebook_path": "renamed.ipynb"})
    assert r.status_code == 200
    # a kernel that stops frees its place
    assert stack.api("DELETE", f"{base}/kernel-0", token).status_code == 204
    r = stack.api("PUT", f"{base}/kernel-256", token, json={"notebook_path": "one-more.ipynb"})
    assert r.status_code == 201, r.text

    # renewing the server's key renews its kernels' keys (the extension renews too)
    def same_expiry():
        server = stack.api("POST", f"users/{user}/keys/{key['id']}/renew", token).json()
        kernel = stack.api("GET", f"users/{user}/keys/{r.json()['id']}", token).json()
        return server["expires_at"] == kernel["expires_at"] and server["expires_at"]

    renewed = until(same_expiry, 30, "the kernel's key renewed with its server's", every=0.1)
    assert renewed > first["expires_at"]


def test_a_replaced_or_revoked_server_key_heals_and_no_kernel_starts_with_a_dead_one(
    stack, running
):
    user, token = running.name, running.token
    old = until(lambda: stack.server_key(user, token), 30, "the server's key")
    first = running.open_notebook("first.ipynb")
    assert running.execute(first, CALL).strip() == "True"

    # the user replaces the server's key (as "POST keys {server_name: ''}" does)
    r = stack.api("POST", f"users/{user}/keys", token, json={"server_name": ""})
    assert r.status_code == 201, r.text
    stack.issued_keys.append(r.json()["key"])
    # a notebook opened now works at its first call: its kernel does not start with
    # a key of the revoked one
    second = running.open_notebook("second.ipynb")
    assert running.execute(second, CALL).strip() == "True"
    healed = stack.server_key(user, token)
    assert healed["id"] not in (old["id"], r.json()["id"])  # the server got its own
    # a running kernel gets a live key at its restart
    running.restart_kernel(first)
    assert running.execute(first, CALL).strip() == "True"

    # an admin revokes the server's key: the server notices within a minute
    r = stack.api("DELETE", f"admin/keys/{healed['id']}", stack.admin.token)
    assert r.status_code == 204
    again = until(
        lambda: (k := stack.server_key(user, token)) and k["id"] != healed["id"] and k,
        60,
        "a new server key after the revocation",
        every=0.5,
    )
    assert again["id"] != healed["id"]
    third = running.open_notebook("third.ipynb")
    assert running.execute(third, CALL).strip() == "True"


@pytest.fixture(scope="module")
def two_services_on_postgres(stack, tmp_path_factory):
    """Two more MaaS service processes, as two replicas on Kubernetes: one PostgreSQL
    database, the stack's hub checking tokens for both."""
    pg = PostgresServer().start()
    db_url = pg.create_database("maas_replicas")
    env = {
        "PATH": "/usr/bin:/bin",
        "JUPYTERHUB_API_TOKEN": (stack.state_dir / "maas-service-token").read_text().strip(),
        "JUPYTERHUB_API_URL": f"{stack.hub_url}/hub/api",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/maas/",
        "JUPYTERHUB_SERVICE_NAME": "maas",
        "JUPYTERHUB_CLIENT_ID": "service-maas",
        "MAAS_DB_URL": db_url,
        "MAAS_COOKIE_SECRET": "replicas-share-this-secret",
    }
    cwd = tmp_path_factory.mktemp("replicas")
    migrate = [sys.executable, "-m", "hub_service", "--migrate-only"]
    subprocess.run(migrate, env=env, cwd=cwd, check=True, capture_output=True, timeout=120)
    procs, urls = [], []
    for i in range(2):
        port = free_port()
        url = f"http://127.0.0.1:{port}/services/maas/"
        log = open(cwd / f"service-{i}.log", "w")  # noqa: SIM115 - the child holds it
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "hub_service"],
                env={
                    **env,
                    "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
                    "MAAS_MIGRATE_AT_START": "0",
                },
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        log.close()
        assert wait_for_url(url + "api/v1/health", procs[-1], timeout=60), f"replica {i}"
        urls.append(url)
    yield urls, db_url, cwd
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)
    pg.stop()


def test_the_personal_key_cap_holds_under_concurrency_on_two_replicas(
    stack, two_services_on_postgres
):
    urls, db_url, logs = two_services_on_postgres
    user = stack.user("kb-racer")
    token = user.create_token()
    issued: list[str] = []  # in this database, not the stack's

    def ask(i: int) -> int:
        r = requests.post(
            f"{urls[i % 2]}api/v1/users/kb-racer/keys",
            headers={"Authorization": f"token {token}"},
            json={"name": f"race {i}"},
            timeout=60,
        )
        if r.status_code == 201:
            issued.append(r.json()["key"])
        else:
            assert r.json()["message"] == (
                "You have 10 active personal keys, the limit: revoke one first."
            ), r.text
        return r.status_code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(ask, range(20)))
    assert sorted(statuses) == [201] * 10 + [409] * 10
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        stored = conn.scalar(
            text(
                "SELECT count(*) FROM api_keys WHERE \"user\" = 'kb-racer' "
                "AND server_name IS NULL AND revoked_at IS NULL"
            )
        )
    engine.dispose()
    assert stored == 10
    logged = "".join(p.read_text() for p in logs.glob("service-*.log"))
    assert len(issued) == 10 and not any(k in logged for k in issued)


def _series(text_: str, family: str) -> set[str]:
    return {
        line.rsplit(" ", 1)[0]
        for line in text_.splitlines()
        if line.startswith(family + "{") or line.startswith(family + " ")
    }


def test_metrics_label_values_come_from_fixed_sets(stack):
    """Invented methods, paths and model names sent to the service (which user pods may
    reach directly) and to the gateway add no series to their metrics."""
    prometheus = stack.admin.create_token(
        "prometheus", scopes=["custom:maas:metrics", "access:services!service=maas"]
    )
    gateway_token = (stack.state_dir / "metrics-token").read_text().strip()
    key = stack.api("POST", "users/admin/keys", stack.admin.token, json={"name": "metrics"}).json()[
        "key"
    ]
    stack.issued_keys.append(key)

    def service_series() -> set[str]:
        r = requests.get(
            f"{stack.service_url}metrics",
            headers={"Authorization": f"token {prometheus}"},
            timeout=30,
        )
        return _series(r.text, "maas_service_http_requests_total")

    def gateway_series() -> set[str]:
        r = requests.get(
            f"{stack.gateway_url}/maas/metrics",
            headers={"Authorization": f"Bearer {gateway_token}"},
            timeout=30,
        )
        names = set(re.findall(r"^(maas_gateway_\w+)\{", r.text, re.M))
        return set().union(*(_series(r.text, n) for n in names))

    def send(i: int) -> None:
        requests.request(f"INVENT{i}", f"{stack.service_url}api/v1/models", timeout=30)
        requests.get(f"{stack.service_url}api/v1/made-up-{i}", timeout=30)
        requests.request(f"INVENT{i}", f"{stack.gateway_url}/v1/models", timeout=30)
        requests.get(f"{stack.gateway_url}/made-up-{i}", timeout=30)
        stack.chat(key, model=f"made-up-model-{i}")
        requests.post(
            f"{stack.gateway_url}/v1/chat/completions",
            headers={"Authorization": f"Bearer sk-maas-made-up-{i}"},
            json={"model": f"made-up-{i}", "messages": []},
            timeout=30,
        )

    service_series(), gateway_series(), send(0)  # the fixed series these map to exist now
    service, gateway = service_series(), gateway_series()
    for i in range(1, 21):
        send(i)
    assert service_series() == service
    assert gateway_series() == gateway
    assert any('method="other"' in s for s in service)

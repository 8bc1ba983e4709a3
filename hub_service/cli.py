"""``maas``: administer Model-as-a-Service from a terminal.

It talks to the MaaS service's API (``--url`` or $MAAS_URL) with a JupyterHub token
(``--token`` or $MAAS_TOKEN / $JUPYTERHUB_API_TOKEN) that carries the
``custom:maas:admin`` scope; ``maas teams`` also takes a team admin's own token (one
carrying ``custom:maas:team-admin!group=<team>``: the service lets it see and change that
team only, and making or removing a team stays a MaaS admin's). ``maas pricing seed`` and
``maas pricing measure`` without ``--apply`` need neither. ``maas backup``, ``maas
restore`` and ``maas usage rollup`` open the database itself (``--db-url`` or
$MAAS_DB_URL, the service's default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

from . import backup, pricing
from .numbers import money, per_million

EXAMPLES = """
examples:
  export MAAS_URL=http://127.0.0.1:8000/services/maas/ MAAS_TOKEN=<an admin's hub token>
  maas models list
  maas models add llama3-8b --set provider_model=openai/llama3 \\
      --set api_base=http://vllm:8000/v1 --set api_key_env=MAAS_BACKEND_VLLM_KEY \\
      --set input_cost_per_token=3e-6 --set output_cost_per_token=9e-6 --set context_window=8192
  maas models disable llama3-8b
  maas profiles edit cpu-standard --set budgets=day:1,month:20 --set rpm_limit=60
  maas profiles edit gpu-ml-ai --set 'groups=["research"]'
  maas overrides set group research --set 'extra_models=["llama3-8b"]' \\
      --set 'budgets=[{"window": "month", "usd": 100}]'
  maas policy alice --profile gpu-ml-ai
  maas keys list --user alice --state active
  maas keys revoke 3f2a9c0d1e4b5a67
  maas teams make cs101 --models course-echo,echo-large
  MAAS_TOKEN=<the instructor's hub token> maas teams set cs101 --set 'models=["course-echo"]' \\
      --set budgets=day:1,term:20 --set caps=term:500 \\
      --set starts_at=2027-01-04T00:00:00Z --set ends_at=2027-04-01T00:00:00Z
  maas teams roster cs101 --format csv > cs101.csv
  maas teams adjust cs101 bob --set budgets=day:3 --note "project week"
  maas chargeback --by group --start 2026-11-01 --end 2026-12-01 --format csv > nov.csv
  maas pricing seed --instance g5.2xlarge --throughput 35
  MAAS_DB_URL=sqlite:////srv/maas/maas.sqlite maas backup /backups/maas-$(date +%F).sqlite
  maas restore /backups/maas-2026-12-01.sqlite --db-url sqlite:////srv/maas/maas.sqlite
  maas usage rollup --older-than-days 400
  maas pricing measure --base-url http://127.0.0.1:8090/v1 --model smollm2-135m \\
      --hourly 0.08925 --apply smollm2-135m
"""


class CLIError(Exception):
    """Something to tell the user, with the fix; exit status 1."""


# fields holding budgets over windows ([{"window": "day", "usd": 1}, ...]), which --set
# also takes as WINDOW:USD pairs
BUDGET_FIELDS = ("budgets", "caps")
BUDGETS_HELP = (
    "budgets and caps also as WINDOW:USD pairs, such as budgets=day:1,month:20, "
    "or budgets= for none"
)


class Client:
    def __init__(self, url: str, token: str):
        if not url:
            raise CLIError(
                "No service URL: pass --url or set MAAS_URL "
                "(e.g. http://127.0.0.1:8000/services/maas/)."
            )
        if not token:
            raise CLIError(
                "No token: pass --token or set MAAS_TOKEN to a JupyterHub token "
                "of a MaaS admin, or for maas teams of a team admin (create one at "
                "<hub>/hub/token)."
            )
        self.base = url.rstrip("/") + "/api/v1/"
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None, raw: bool = False):
        req = urllib.request.Request(  # noqa: S310 - the URL the admin gave
            self.base + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
                data = resp.read()
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read())["message"]
            except (ValueError, KeyError):
                message = e.reason
            raise CLIError(f"{method} {path}: HTTP {e.code}: {message}") from None
        except OSError as e:
            raise CLIError(f"Cannot reach the MaaS service at {self.base}: {e}") from None
        if raw:
            return data.decode()
        return json.loads(data) if data else None


def parse_budgets(field: str, text: str) -> list[dict]:
    """``day:1,month:20`` as ``[{"window": "day", "usd": 1.0}, {"window": "month",
    "usd": 20.0}]``; an empty text as no budgets. The service checks the windows."""
    if not text.strip():
        return []
    budgets = []
    for item in text.split(","):
        window, sep, usd = (part.strip() for part in item.partition(":"))
        try:
            amount = float(usd)
        except ValueError:
            amount = math.nan
        if not (sep and window and math.isfinite(amount)):
            raise CLIError(
                f"--set {field}={text}: {item.strip()!r} is not WINDOW:USD. Write {field} "
                f"as WINDOW:USD pairs separated by commas, such as {field}=day:1,month:20 "
                "(windows: hour, day, week, month; term for a team), or as JSON."
            )
        budgets.append({"window": window, "usd": amount})
    return budgets


def parse_sets(pairs: list[str] | None, file: str | None = None) -> dict:
    """``--set field=value`` pairs (values read as JSON when they parse; budget fields
    not in JSON as ``parse_budgets`` reads them) and ``--file``."""
    body: dict = {}
    if file:
        try:
            with open(file) as f:
                body.update(json.load(f))
        except (OSError, ValueError) as e:
            raise CLIError(f"Cannot read {file}: {e}") from None
    for pair in pairs or []:
        field, sep, value = pair.partition("=")
        if not sep or not field:
            raise CLIError(f"--set takes field=value, not {pair!r}.")
        try:
            body[field] = json.loads(value)
        except ValueError:
            body[field] = parse_budgets(field, value) if field in BUDGET_FIELDS else value
    return body


def budgets_text(budgets: list[dict] | None) -> str:
    """Budgets as a table cell: "$1.00/day, $20.00/month"."""
    return ", ".join(f"{money(b['usd'])}/{b['window']}" for b in budgets or [])


def table(rows: list[dict], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def show(args, data) -> None:
    print(json.dumps(data, indent=2))


# -- commands ---------------------------------------------------------------------------


def _crud(args, client: Client, collection: str, key_field: str, key: str | None) -> bool:
    """show / add / edit / remove of one admin collection; False if not one of those."""
    path = f"admin/{collection}/{quote(key or '', safe='')}"
    if args.action in ("show", "add", "edit", "remove") and not key:
        raise CLIError(f"maas {collection} {args.action} needs the {key_field}.")
    if args.action == "show":
        show(args, client.call("GET", path))
    elif args.action == "add":
        body = {key_field: key, **parse_sets(args.set, args.file)}
        show(args, client.call("POST", f"admin/{collection}", body))
    elif args.action == "edit":
        show(args, client.call("PATCH", path, parse_sets(args.set, args.file)))
    elif args.action == "remove":
        client.call("DELETE", path)
        print(f"{key}: removed")
    else:
        return False
    return True


def cmd_models(args, client: Client) -> None:
    if _crud(args, client, "models", "name", args.name):
        return
    if args.action == "list":
        models = client.call("GET", "admin/models")["models"]
        for m in models:
            m["input/1M"] = per_million(m["input_cost_per_token"])
            m["output/1M"] = per_million(m["output_cost_per_token"])
        columns = [
            "name",
            "mode",
            "enabled",
            "provider_model",
            "input/1M",
            "output/1M",
            "context_window",
        ]
        print(json.dumps(models, indent=2) if args.json else table(models, columns))
    else:  # enable / disable
        if not args.name:
            raise CLIError(f"maas models {args.action} needs the name.")
        path = f"admin/models/{quote(args.name, safe='')}"
        client.call("PATCH", path, {"enabled": args.action == "enable"})
        print(f"{args.name}: {args.action}d")


def cmd_profiles(args, client: Client) -> None:
    if _crud(args, client, "profiles", "slug", args.slug):
        return
    profiles = client.call("GET", "admin/profiles")["profiles"]
    if args.json:
        show(args, profiles)
        return
    for p in profiles:
        p["models"] = ",".join(p["models"])
        p["budgets"] = budgets_text(p.get("budgets"))
        p["groups"] = ",".join(p.get("groups") or []) or "(everyone)"
    print(
        table(
            profiles,
            [
                "slug",
                "display_name",
                "default",
                "models",
                "budgets",
                "rpm_limit",
                "tpm_limit",
                "groups",
            ],
        )
    )


def cmd_overrides(args, client: Client) -> None:
    if args.action == "list":
        rows = client.call("GET", "admin/overrides")["overrides"]
        if args.json:
            show(args, rows)
            return
        for r in rows:
            r["extra_models"] = ",".join(r.get("extra_models") or [])
            r["budgets"] = budgets_text(r.get("budgets"))
        print(table(rows, ["kind", "name", "extra_models", "budgets", "rpm_limit", "tpm_limit"]))
        return
    if not (args.kind and args.name):
        raise CLIError(f"maas overrides {args.action} needs KIND (group or user) and NAME.")
    path = f"admin/overrides/{args.kind}/{quote(args.name, safe='')}"
    if args.action == "set":
        show(args, client.call("PUT", path, parse_sets(args.set, args.file)))
    else:
        client.call("DELETE", path)
        print(f"{args.kind} {args.name}: override removed")


def cmd_policy(args, client: Client) -> None:
    query = f"?{urlencode({'profile': args.profile})}" if args.profile else ""
    show(args, client.call("GET", f"admin/policy/{quote(args.user, safe='')}{query}"))


def cmd_keys(args, client: Client) -> None:
    if args.action == "revoke":
        if not args.id:
            raise CLIError("maas keys revoke needs the key's id (maas keys list shows it).")
        client.call("DELETE", f"admin/keys/{quote(args.id, safe='')}")
        print(f"{args.id}: revoked")
        return
    params = {k: v for k, v in (("user", args.user), ("state", args.state)) if v}
    rows = client.call("GET", f"admin/keys?{urlencode(params)}")["keys"]
    columns = ["id", "user", "name", "server_name", "state", "expires_at", "revoked_reason"]
    print(json.dumps(rows, indent=2) if args.json else table(rows, columns))


def cmd_audit(args, client: Client) -> None:
    params = {"limit": args.limit, **({"target_type": args.type} if args.type else {})}
    entries = client.call("GET", f"admin/audit?{urlencode(params)}")["entries"]
    if args.json:
        show(args, entries)
    else:
        print(table(entries, ["ts", "actor", "action", "target_type", "target"]))


def cmd_chargeback(args, client: Client) -> None:
    params = {"by": args.by, "format": args.format}
    params.update({k: v for k, v in (("start", args.start), ("end", args.end)) if v})
    data = client.call("GET", f"admin/chargeback?{urlencode(params)}", raw=True)
    print(data if args.format == "csv" else json.dumps(json.loads(data), indent=2))


TEAMS_HELP = """\
Teams are hub groups run by their own team admins (docs/teams.md), who call these
with their own hub token; make and remove are a MaaS admin's.

  list                         the teams you administer (a MaaS admin: every team)
  make TEAM --models a,b       make the hub group TEAM a team, whose admins choose its
                               models among these ('*': every model); again: change them
  remove TEAM                  TEAM is no team any more (its settings go)
  show TEAM                    its settings, and whether its term runs
  set TEAM --set FIELD=VALUE   models; budgets (per member) and caps (the members'
                               total), per window hour, day, week, month or term, such
                               as budgets=day:1,term:20; starts_at and ends_at (on a
                               quarter hour: 2027-01-04T00:00:00Z); alert_percent
  roster TEAM [--format csv]   each member's spend per window, requests, last use and
                               top notebooks
  adjust TEAM USER --set budgets=day:3 [--note WHY]
                               the member's own budgets, within the caps
  unadjust TEAM USER           the member is back to the team's budgets
  revoke-keys TEAM USER        revoke every key of the member
  usage TEAM [--days 30]       the members' spend and requests by day and model
  audit TEAM                   the changes to the team, newest first

Every change is audited. The service stores no prompt or answer, so none is shown.
"""
TEAM_ACTIONS_WITH_USER = ("adjust", "unadjust", "revoke-keys")


def cmd_teams(args, client: Client) -> None:
    if args.action == "list":
        teams = client.call("GET", "teams")["teams"]
        if args.json:
            show(args, teams)
            return
        for t in teams:
            t["available_models"] = ",".join(t["available_models"])
            t["models"] = ",".join(t["models"])
            t["budgets"] = budgets_text(t["budgets"])
            t["caps"] = budgets_text(t["caps"])
        columns = ["name", "available_models", "models", "budgets", "caps"]
        print(table(teams, [*columns, "starts_at", "ends_at", "term_state"]))
        return
    if not args.team:
        raise CLIError(f"maas teams {args.action} needs the team (its hub group's name).")
    team = quote(args.team, safe="")
    if args.action in TEAM_ACTIONS_WITH_USER:
        if not args.user:
            raise CLIError(f"maas teams {args.action} needs the team and the member's name.")
        member = f"teams/{team}/members/{quote(args.user, safe='')}"
    if args.action == "make":
        if args.models is None:
            raise CLIError(
                "maas teams make needs --models: the models the team's admins may choose "
                "among, such as --models course-echo,echo-large ('*' for every model)."
            )
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        show(args, client.call("PUT", f"admin/teams/{team}", {"available_models": models}))
    elif args.action == "remove":
        client.call("DELETE", f"admin/teams/{team}")
        print(f"{args.team}: no longer a team")
    elif args.action == "show":
        show(args, client.call("GET", f"teams/{team}"))
    elif args.action == "set":
        show(args, client.call("PATCH", f"teams/{team}", parse_sets(args.set, args.file)))
    elif args.action == "roster":
        _roster(args, client, team)
    elif args.action == "adjust":
        body = parse_sets(args.set, args.file)
        if args.note is not None:
            body["note"] = args.note
        show(args, client.call("PUT", member, body))
    elif args.action == "unadjust":
        client.call("DELETE", member)
        print(f"{args.user}: back to team {args.team}'s budgets")
    elif args.action == "revoke-keys":
        revoked = client.call("DELETE", f"{member}/keys")["revoked"]
        print(f"{args.user}: {revoked} key(s) revoked")
    elif args.action == "usage":
        data = client.call("GET", f"teams/{team}/usage?{urlencode({'days': args.days})}")
        rows = data["by_day"]
        if args.json:
            show(args, rows)
            return
        cost = sum(r["cost_usd"] for r in rows)
        requests = sum(r["requests"] for r in rows)
        for r in rows:
            r["cost"] = money(r["cost_usd"])
        print(table(rows, ["day", "model", "requests", "cost"]))
        print(f"total: {money(cost)}, {requests:,} request(s) in {data['days']} day(s)")
    else:  # audit
        entries = client.call("GET", f"teams/{team}/audit")["entries"]
        if args.json:
            show(args, entries)
        else:
            print(table(entries, ["ts", "actor", "action", "target"]))


def _roster(args, client: Client, team: str) -> None:
    """Each member's spend against each budget, requests, last use, top notebooks."""
    if args.format == "csv":
        print(client.call("GET", f"teams/{team}/members?format=csv", raw=True), end="")
        return
    members = client.call("GET", f"teams/{team}/members")["members"]
    if args.json:
        show(args, members)
        return
    for m in members:
        m["spend"] = ", ".join(
            f"{money(b['spend_usd'])} of {money(b['usd'])}/{b['window']}" for b in m["budgets"]
        )
        m["top_notebooks"] = ", ".join(
            f"{n['notebook_path']} ({money(n['cost_usd'])})" for n in m["top_notebooks"]
        )
        adjustment = m.get("adjustment")
        m["adjusted"] = (adjustment["note"] or "yes") if adjustment else ""
    print(table(members, ["user", "spend", "requests", "last_used", "adjusted", "top_notebooks"]))


def cmd_backup(args) -> None:
    revision = backup.backup(args.db_url, Path(args.file))
    print(
        f"Backed up {backup.sqlite_path(args.db_url)} (schema revision {revision}) to {args.file}"
    )


def cmd_restore(args) -> None:
    revision, aside = backup.restore(args.db_url, Path(args.file))
    target = backup.sqlite_path(args.db_url)
    if aside:
        print(f"The database it replaces is kept as {aside}")
    print(
        f"Restored {args.file} (schema revision {revision}) to {target}; start the service "
        "(or run python -m hub_service --migrate-only), then the gateways."
    )


def cmd_usage(args) -> None:
    import datetime as dt

    from . import db, usage

    if not args.older_than_days >= usage.MIN_RETENTION_DAYS:
        raise CLIError(f"--older-than-days must be at least {usage.MIN_RETENTION_DAYS:g}.")
    engine = db.make_engine(args.db_url)
    try:
        problem = db.schema_problem(engine)
        if problem:
            raise CLIError(f"Not rolling up: {problem}.")
        before = db.utcnow() - dt.timedelta(days=args.older_than_days)
        done = usage.roll_up(db.make_session_factory(engine), before)
    finally:
        engine.dispose()
    print(f"Deleted {done} summed usage row(s) from before {usage.midnight(before).date()}")


# commands that open the database rather than call the service
LOCAL_COMMANDS = (cmd_backup, cmd_restore, cmd_usage)


def _hourly(args) -> float:
    prices = pricing.load_instance_prices(args.prices_file)
    if args.instance:
        try:
            hourly = prices["instances"][args.instance]["hourly"]
        except KeyError:
            known = ", ".join(sorted(prices["instances"]))
            raise CLIError(f"Unknown instance {args.instance!r}; known: {known}.") from None
    elif args.hourly:
        hourly = args.hourly
    else:
        raise CLIError("Say what the instance costs: --instance NAME or --hourly USD.")
    if args.spot:
        hourly *= prices.get("spot_factor", 0.35)
    return hourly


def cmd_pricing(args, client_factory) -> None:
    if args.action == "instances":
        prices = pricing.load_instance_prices(args.prices_file)
        rows = [{"instance": k, **v} for k, v in prices["instances"].items()]
        print(f"{prices.get('source', '')} (as of {prices.get('date', '?')})")
        print(table(rows, ["instance", "hourly", "accelerators"]))
        return
    if args.action == "seed":
        if not args.throughput:
            raise CLIError("maas pricing seed needs --throughput (tokens/s).")
        hourly = _hourly(args)
        p = pricing.seed_prices(hourly, args.throughput, args.input_share)
        print(f"instance cost ${hourly:.4f}/h at {args.throughput:g} tokens/s")
        print(f"total per 1M tokens:  ${p.total_per_million}")
        print(
            f"input per 1M tokens:  ${p.input_per_million}  "
            f"(input_cost_per_token {p.input_cost_per_token:.4g})"
        )
        print(
            f"output per 1M tokens: ${p.output_per_million}  "
            f"(output_cost_per_token {p.output_cost_per_token:.4g})"
        )
        return
    # measure
    if not (args.base_url and args.model):
        raise CLIError("maas pricing measure needs --base-url and --model.")
    try:
        levels = tuple(int(c) for c in args.concurrency.split(","))
    except ValueError:
        raise CLIError(
            "--concurrency takes whole numbers separated by commas, e.g. 1,2,4."
        ) from None
    hourly = _hourly(args)
    try:
        results = asyncio.run(
            pricing.measure(
                args.base_url, args.model, args.api_key, levels, args.requests, args.max_tokens
            )
        )
    except (RuntimeError, OSError) as e:
        raise CLIError(f"Measuring {args.base_url} failed: {e}") from None
    except Exception as e:  # noqa: BLE001 - httpx errors and friends, said plainly
        raise CLIError(f"Measuring {args.base_url} failed: {type(e).__name__}: {e}") from None
    print(
        table(
            [
                {
                    "concurrency": r.concurrency,
                    "requests": r.requests,
                    "ttft_s": f"{r.ttft_s:.3f}",
                    "prefill_tok/s": f"{r.prefill_tps:.1f}",
                    "decode_tok/s": f"{r.decode_tps:.1f}",
                }
                for r in results
            ],
            ["concurrency", "requests", "ttft_s", "prefill_tok/s", "decode_tok/s"],
        )
    )
    best, input_price, output_price = pricing.measured_prices(results, hourly, args.utilisation)
    print(
        f"\nat ${hourly:.4f}/h, {args.utilisation:.0%} utilisation, concurrency "
        f"{best.concurrency}: input {input_price:.4g}/token "
        f"({per_million(input_price)}/1M), output {output_price:.4g}/token "
        f"({per_million(output_price)}/1M)"
    )
    if args.apply is None:
        print("(dry run: add --apply CATALOG_MODEL to write these prices)")
        return
    client = client_factory()
    path = f"admin/models/{quote(args.apply, safe='')}"
    current = client.call("GET", path)
    new = {"input_cost_per_token": input_price, "output_cost_per_token": output_price}
    for field, value in new.items():
        print(f"{args.apply}.{field}: {current[field]:.4g} -> {value:.4g}")
    client.call("PATCH", path, new)
    print(f"{args.apply}: prices written to the catalog")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maas",
        description="Administer Model-as-a-Service for JupyterHub: the model catalog, "
        "notebook profiles, group and user overrides, teams, keys, audit, chargeback and "
        "pricing.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("MAAS_URL", ""),
        help="the MaaS service, e.g. http://127.0.0.1:8000/services/maas/ (default: $MAAS_URL)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("MAAS_TOKEN") or os.environ.get("JUPYTERHUB_API_TOKEN", ""),
        help="a MaaS admin's JupyterHub token, or for maas teams a team admin's "
        "(default: $MAAS_TOKEN)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON rather than tables")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def settable(p):
        p.add_argument(
            "--set",
            action="append",
            metavar="FIELD=VALUE",
            help=f"a field to set (JSON values: numbers, true/false, lists; {BUDGETS_HELP}); "
            "repeat",
        )
        p.add_argument("--file", help="a JSON file of fields")

    def editable(p, key: str, help_text: str):
        p.add_argument(key, nargs="?", help=help_text)
        settable(p)

    p = sub.add_parser(
        "models",
        help="the model catalog",
        description="List, add, edit, enable, disable or remove catalog models. "
        "Fields: provider_model, api_base, api_key_env (the NAME of the "
        "gateway's variable holding the backend key, MAAS_BACKEND_...), mode, description, "
        "context_window, max_output_tokens, capabilities, "
        "input_cost_per_token, output_cost_per_token, enabled, extra_params.",
    )
    p.add_argument("action", choices=["list", "show", "add", "edit", "enable", "disable", "remove"])
    editable(p, "name", "the model's public name")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser(
        "profiles",
        help="notebook profiles",
        description="List, add, edit or remove profiles. Fields: display_name, "
        "description, resources (JSON: cpu_limit, cpu_guarantee, mem_limit, "
        "mem_guarantee, gpu, image, node_selector, tolerations), default, "
        "models, budgets (per user, at most one per window hour, day, week or month: "
        "budgets=day:1,month:20), rpm_limit, tpm_limit, groups (JSON: the hub groups "
        "whose members may use it; [] for everyone; hub admins may use any).",
    )
    p.add_argument("action", choices=["list", "show", "add", "edit", "remove"])
    editable(p, "slug", "the profile's slug")
    p.set_defaults(func=cmd_profiles)

    p = sub.add_parser(
        "overrides",
        help="per-group and per-user policy",
        description="A hub group's or user's extra models, budgets and limits. "
        "Fields: extra_models, budgets (per window hour, day, week or month: "
        "budgets=day:5,month:100; each window's replaces the profile's), rpm_limit, "
        "tpm_limit. 'set' replaces the whole override.",
    )
    p.add_argument("action", choices=["list", "set", "remove"])
    p.add_argument("kind", nargs="?", choices=["group", "user"])
    editable(p, "name", "the group's or user's name")
    p.set_defaults(func=cmd_overrides)

    p = sub.add_parser(
        "teams",
        help="hub groups run by their own team admins",
        description=TEAMS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "action",
        choices=[
            "list",
            "make",
            "remove",
            "show",
            "set",
            "roster",
            "adjust",
            "unadjust",
            "revoke-keys",
            "usage",
            "audit",
        ],
    )
    p.add_argument("team", nargs="?", help="the team: its hub group's name")
    p.add_argument("user", nargs="?", help="adjust, unadjust, revoke-keys: the member")
    settable(p)
    p.add_argument(
        "--models", help="make: the models its admins may choose among, a,b ('*': every model)"
    )
    p.add_argument("--note", help="adjust: why (kept with the adjustment and in the audit log)")
    p.add_argument("--days", type=int, default=30, help="usage: days back, 1-366 (default 30)")
    p.add_argument(
        "--format",
        choices=["table", "csv"],
        default="table",
        help="roster: csv is one line per member and window",
    )
    p.set_defaults(func=cmd_teams)

    p = sub.add_parser("policy", help="a user's effective policy")
    p.add_argument("user")
    p.add_argument("--profile", help="the server's profile (default: the default profile)")
    p.set_defaults(func=cmd_policy)

    p = sub.add_parser(
        "keys",
        help="every user's keys",
        description="List any user's keys (metadata only) or revoke one (audited).",
    )
    p.add_argument("action", choices=["list", "revoke"])
    p.add_argument("id", nargs="?", help="revoke: the key's id")
    p.add_argument("--user", help="list: only this user's keys")
    # the service says which states there are if it gets another
    p.add_argument("--state", help="list: only keys active, revoked or expired")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("audit", help="who changed what, newest first")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--type", help="model, profile, group, user or key")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("chargeback", help="spend per user, group, profile or model")
    p.add_argument(
        "--by",
        default="user",
        help="user, group, profile, model or notebook (the service names its choices if "
        "this is none of them)",
    )
    p.add_argument("--start", help="ISO date or time (default: 30 days before --end)")
    p.add_argument("--end", help="ISO date or time (default: now)")
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.set_defaults(func=cmd_chargeback)

    p = sub.add_parser(
        "pricing",
        help="per-token prices from instance costs",
        description=pricing.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=["seed", "measure", "instances"])
    p.add_argument("--instance", help="an instance from the price table (maas pricing instances)")
    p.add_argument("--hourly", type=float, help="or the instance's USD per hour")
    p.add_argument("--spot", action="store_true", help="apply the spot factor (0.35)")
    p.add_argument("--prices-file", help="a JSON instance price table of your own")
    p.add_argument("--throughput", type=float, help="seed: tokens per second")
    p.add_argument("--input-share", type=float, default=0.25, help="seed: input's share")
    p.add_argument("--base-url", help="measure: the endpoint's OpenAI base URL (…/v1)")
    p.add_argument("--model", help="measure: the model name the endpoint serves")
    p.add_argument(
        "--api-key",
        default=os.environ.get("OPENAI_API_KEY", "none"),
        help="measure: the endpoint's key (default: $OPENAI_API_KEY)",
    )
    p.add_argument("--concurrency", default="1,2,4", help="measure: levels, e.g. 1,2,4")
    p.add_argument("--requests", type=int, default=8, help="measure: requests per level")
    p.add_argument("--max-tokens", type=int, default=128, help="measure: tokens per answer")
    p.add_argument(
        "--utilisation",
        type=float,
        default=0.6,
        help="measure: share of the hours the instance is busy (default 0.6)",
    )
    p.add_argument(
        "--apply",
        metavar="CATALOG_MODEL",
        help="measure: write the prices to this catalog model (else a dry run)",
    )
    p.set_defaults(func=cmd_pricing)

    def database(p):
        p.add_argument(
            "--db-url",
            default=os.environ.get("MAAS_DB_URL", "sqlite:///maas.sqlite"),
            help="the service's database (default: $MAAS_DB_URL, else sqlite:///maas.sqlite)",
        )

    p = sub.add_parser(
        "backup",
        help="copy a SQLite database to a file, while the service runs",
        description="Copy the service's SQLite database to FILE as it is at one moment "
        "(SQLite's backup API: consistent while the service and gateways write), and "
        "check the copy. For PostgreSQL it says how to use pg_dump or CloudNativePG.",
    )
    p.add_argument("file", help="the backup to write (must not exist)")
    database(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore",
        help="replace a SQLite database by a backup (service and gateways stopped)",
        description="Check FILE (SQLite's integrity check, a schema revision this "
        "version knows) and copy it over the service's database, keeping the database "
        "it replaces beside it (<name>.before-restore-<time>). Stop the service and "
        "the gateways first; start them after (the service migrates an older backup).",
    )
    p.add_argument("file", help="the backup to restore")
    database(p)
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser(
        "usage",
        help="roll up old usage rows now",
        description="Sum the usage rows not yet summed into the daily rollups, then "
        "delete those older than --older-than-days, as the service does every "
        "prune_interval with MaaSService.usage_retention_days; every total stays the "
        "same.",
    )
    p.add_argument("action", choices=["rollup"])
    p.add_argument("--older-than-days", type=float, required=True)
    database(p)
    p.set_defaults(func=cmd_usage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.func in LOCAL_COMMANDS:
            args.func(args)
        elif args.func is cmd_pricing:
            args.func(args, lambda: Client(args.url, args.token))
        else:
            args.func(args, Client(args.url, args.token))
    except (CLIError, backup.BackupError) as e:
        print(f"maas: {e}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"maas: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The OpenAPI document of the service's JSON API, served at ``api/v1/openapi.json``.

Derived, not retyped: the paths, their methods and path parameters come from the route
table the service routes with (``routes.API_ROUTES``: each pattern's named groups are
the parameters, an alternation of words their enum); the request bodies and the
catalog, profile and override objects from the field specifications the API validates
with (``validation.MODEL_FIELDS`` and the others). What is written here is what neither
knows: each operation's summary, its answers and errors, and the shapes of answers
assembled in code (keys, usage, policy). Every object an answer holds is closed
(``additionalProperties: false``): a field a handler answers and this document does not
declare fails the tests.
"""

from __future__ import annotations

import re

from . import __version__
from .admin import AUDIT_FILTERS, CHARGEBACK_DIMENSIONS
from .catalog import PUBLIC_MODEL_FIELDS
from .keys import KEY_STATES
from .policy import PERIODS
from .servers import SERVER_STATUSES
from .usage import CSV_COLUMNS
from .validation import (
    ISSUE_KEY_FIELDS,
    KERNEL_KEY_FIELDS,
    KEY_FIELDS,
    MODEL_FIELDS,
    OVERRIDE_FIELDS,
    PLAYGROUND_FIELDS,
    PROFILE_FIELDS,
    SEED_PRICING_FIELDS,
    SERVER_FIELDS,
    TEAM_FIELDS,
    TEAM_MEMBER_FIELDS,
    TEAM_SETTINGS_FIELDS,
    Field,
)
from .windows import WINDOWS

# -- building blocks ----------------------------------------------------------------------

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
STRINGS = {"type": "array", "items": STRING}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties: dict, required: list[str] | None = None, **extra) -> dict:
    """An object with exactly these properties."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return {**schema, **extra}


def array_of(name: str, items: dict) -> dict:
    return closed({name: {"type": "array", "items": items}}, [name])


def from_fields(
    fields: dict[str, Field], *, only=None, required: bool = False, extra: dict | None = None
) -> dict:
    """The object a field specification describes (``only`` some of its fields; with
    ``required``, the fields a creation must send)."""
    names = [n for n in fields if only is None or n in only]
    return closed(
        {**{n: fields[n].json_schema() for n in names}, **(extra or {})},
        [n for n in names if fields[n].required] if required else None,
    )


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_TEXT = {
    400: "Malformed input",
    401: "Not authenticated",
    403: "Not allowed for this caller",
    404: "No such resource",
    409: "Conflicts with the current state",
    413: "The request body is over the API's limit",
    429: "Over a limit (the sentence says which)",
    502: "The hub failed to do it (its sentence follows)",
    503: "The hub cannot be reached",
}


def _errors(*codes: int) -> dict:
    return {str(c): _json(ref("Error"), ERROR_TEXT[c]) for c in codes}


TEAM_ERRORS = _errors(401, 403, 404)  # not your team, or no team


def _json_or_csv(schema: dict, description: str) -> dict:
    """A 200 answer that is JSON, or a CSV download with ``format=csv``."""
    return {
        "200": {
            "description": description,
            "content": {"application/json": {"schema": schema}, "text/csv": {"schema": STRING}},
        }
    }


def _query(name: str, schema: dict, description: str = "") -> dict:
    param = {"name": name, "in": "query", "schema": schema}
    if description:
        param["description"] = description
    return param


def _body(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def op(summary: str, responses: dict, **more) -> dict:
    return {"summary": summary, "responses": responses, **more}


def no_content(description: str) -> dict:
    return {"204": {"description": description}}


# -- the objects --------------------------------------------------------------------------

KEY = {
    "id": STRING,
    "name": NULLABLE_STRING,
    "masked": {"type": "string", "examples": ["sk-maas-AbCd...wxyz"]},
    "user": STRING,
    "server_name": NULLABLE_STRING,
    "profile": NULLABLE_STRING,
    "models": {
        "type": ["array", "null"],
        "items": STRING,
        "description": "The models this key may call; null: all its owner's policy allows.",
    },
    "created": TIME,
    "expires_at": TIME,
    "revoked_at": NULLABLE_TIME,
    "revoked_reason": NULLABLE_STRING,
    "state": {"enum": list(KEY_STATES)},
}
POLICY = {
    "user": STRING,
    "groups": STRINGS,
    "profile": NULLABLE_STRING,
    "models": STRINGS,
    "allowed_models": STRINGS,
    "budget_usd": {
        "type": ["number", "null"],
        "description": "The budget that binds (the most spent of ``budgets``), if any.",
    },
    "budget_period": {"enum": [*WINDOWS, None], "description": "Its window."},
    "rpm_limit": {"type": ["integer", "null"]},
    "tpm_limit": {"type": ["integer", "null"]},
    "sources": {
        "type": "object",
        "additionalProperties": NULLABLE_STRING,
        "description": "Which layer set each limit: profile, group:<name> or user.",
    },
    "idle_teams": {
        "type": "object",
        "additionalProperties": STRING,
        "description": "Your teams outside their terms, each with why: they grant nothing.",
    },
    "period_start": {**TIME, "description": "With a budget: its window's start."},
    "resets_at": {**TIME, "description": "With a budget: when its window ends."},
    "spend_usd": {**NUMBER, "description": "With a budget: spend in its window."},
}
BUDGET = {
    "window": {"enum": list(WINDOWS)},
    "usd": NUMBER,
    "source": {
        **STRING,
        "description": "Who set it: profile:<slug>, group:<name>, user, team:<name>.",
    },
    "team": {**NULLABLE_STRING, "description": "The team whose budget it is."},
    "cap": {"type": "boolean", "description": "The team members' total, not yours alone."},
    "alert": {
        "type": ["number", "null"],
        "description": "The share of it at which to warn (a team's alert_percent / 100); "
        "null: the hub's threshold.",
    },
}
STANDING = {
    **BUDGET,
    "spend_usd": NUMBER,
    "period_start": TIME,
    "resets_at": TIME,
}
POLICY["budgets"] = {
    "type": "array",
    "items": closed(STANDING),
    "description": "Every budget that applies, with the spend in its window now.",
}
POLICY["binding"] = closed(STANDING, description="The budget that binds.")
SPEND = {"requests": INTEGER, "prompt_tokens": INTEGER, "completion_tokens": INTEGER}


def schemas() -> dict:
    time_stamps = {"created": NULLABLE_TIME, "updated": NULLABLE_TIME}
    return {
        "Error": closed({"status": INTEGER, "message": STRING}, ["status", "message"]),
        "Model": from_fields(
            MODEL_FIELDS,
            only=PUBLIC_MODEL_FIELDS,
            extra={
                "supported_params": {
                    "type": "object",
                    "additionalProperties": STRINGS,
                    "description": "Per endpoint serving it, the request fields the gateway "
                    "passes on (from its route table).",
                }
            },
        ),
        "AdminModel": from_fields(MODEL_FIELDS, extra=time_stamps),
        "NewModel": from_fields(MODEL_FIELDS, required=True),
        "ModelChanges": from_fields(MODEL_FIELDS),
        "Profile": from_fields(PROFILE_FIELDS),
        "NewProfile": from_fields(PROFILE_FIELDS, required=True),
        "ProfileChanges": from_fields(PROFILE_FIELDS),
        "Override": from_fields(
            OVERRIDE_FIELDS, extra={"kind": {"enum": ["group", "user"]}, "name": STRING}
        ),
        "OverrideFields": from_fields(OVERRIDE_FIELDS),
        "Key": closed(KEY, description="A key's metadata: the key itself is never here."),
        "AdminKey": closed(
            {**KEY, "user_deleted_at": {**NULLABLE_TIME, "description": "Its user's deletion."}}
        ),
        "OwnKey": closed(
            {
                **KEY,
                "requests": {**INTEGER, "description": "Requests made with it, ever."},
                "spend_usd": {**NUMBER, "description": "Its spend, ever."},
                "last_used": {**NULLABLE_TIME, "description": "Its last request."},
            }
        ),
        "KeyChanges": from_fields(KEY_FIELDS),
        "NewKey": from_fields(ISSUE_KEY_FIELDS),
        "IssuedKernelKey": closed({**KEY, "key": {**STRING, "description": "Shown once."}}),
        "IssuedKey": closed(
            {
                **KEY,
                "key": {**STRING, "description": "Shown once."},
                "models": STRINGS,
                "base_url": STRING,
            }
        ),
        "Policy": closed(POLICY),
        "TeamFields": from_fields(TEAM_FIELDS),
        "TeamSettings": from_fields(TEAM_SETTINGS_FIELDS),
        "Team": closed(
            {
                **from_fields(TEAM_FIELDS)["properties"],
                **from_fields(TEAM_SETTINGS_FIELDS)["properties"],
                "name": STRING,
                "term_state": {"enum": ["before", "during", "after", None]},
                "idle_because": {
                    **NULLABLE_STRING,
                    "description": "Why the team grants nothing now (outside its term).",
                },
            }
        ),
        "TeamMemberBudgets": from_fields(TEAM_MEMBER_FIELDS),
        "TeamMemberAdjustment": closed(
            {"team": STRING, "user": STRING, **from_fields(TEAM_MEMBER_FIELDS)["properties"]}
        ),
        "TeamRoster": closed(
            {
                "team": STRING,
                "members": {
                    "type": "array",
                    "items": closed(
                        {
                            "user": STRING,
                            "budgets": {
                                "type": "array",
                                "items": closed(
                                    {
                                        "window": {"enum": list(WINDOWS)},
                                        "usd": NUMBER,
                                        "spend_usd": NUMBER,
                                        "resets_at": TIME,
                                    }
                                ),
                            },
                            "requests": INTEGER,
                            "last_used": NULLABLE_TIME,
                            "top_notebooks": {
                                "type": "array",
                                "items": closed({"notebook_path": STRING, "cost_usd": NUMBER}),
                            },
                            "adjustment": {
                                "anyOf": [ref("TeamMemberAdjustment"), {"type": "null"}]
                            },
                        }
                    ),
                },
            }
        ),
        "TeamUsage": closed(
            {
                "team": STRING,
                "days": INTEGER,
                "by_day": {
                    "type": "array",
                    "items": closed(
                        {"day": STRING, "model": STRING, "requests": INTEGER, "cost_usd": NUMBER}
                    ),
                },
            }
        ),
        "Usage": closed(
            {
                "period": {"enum": [*PERIODS, None]},
                "days": {"type": ["integer", "null"]},
                "since": TIME,
                "total_cost_usd": NUMBER,
                "total_requests": INTEGER,
                "total_prompt_tokens": INTEGER,
                "total_completion_tokens": INTEGER,
                "by_key": {
                    "type": "array",
                    "description": "Spend per key, the largest first.",
                    "items": closed(
                        {
                            "key_id": NULLABLE_STRING,
                            "name": NULLABLE_STRING,
                            "server_name": NULLABLE_STRING,
                            **SPEND,
                            "cost_usd": NUMBER,
                        }
                    ),
                },
                "by_notebook": {
                    "type": "array",
                    "description": "Spend per server and notebook (null: no kernel's key), "
                    "the largest first.",
                    "items": closed(
                        {
                            "server_name": STRING,
                            "notebook_path": NULLABLE_STRING,
                            **SPEND,
                            "cost_usd": NUMBER,
                        }
                    ),
                },
                "by_model": {
                    "type": "array",
                    "items": closed({"model": STRING, **SPEND, "cost_usd": NUMBER}),
                },
                "by_day": {
                    "type": "array",
                    "description": "Requests and spend per UTC day, oldest first.",
                    "items": closed(
                        {
                            "day": {**STRING, "format": "date"},
                            "requests": INTEGER,
                            "cost_usd": NUMBER,
                        }
                    ),
                },
                "recent": {
                    "type": "array",
                    "items": closed(
                        {
                            "ts": TIME,
                            "model": STRING,
                            "server_name": NULLABLE_STRING,
                            "key_id": NULLABLE_STRING,
                            "notebook_path": NULLABLE_STRING,
                            "prompt_tokens": INTEGER,
                            "completion_tokens": INTEGER,
                            "cost_usd": NUMBER,
                            "latency_ms": NUMBER,
                            "status_code": INTEGER,
                        }
                    ),
                },
                "refused": {
                    "type": "array",
                    "items": closed({"status": INTEGER, "reason": STRING, "requests": INTEGER}),
                },
            }
        ),
        "AuditEntry": closed(
            {
                "ts": TIME,
                "actor": STRING,
                "action": STRING,
                "target_type": STRING,
                "target": STRING,
                "before": {"type": ["object", "null"]},
                "after": {"type": ["object", "null"]},
            }
        ),
        "Chargeback": closed(
            {
                "by": {"enum": list(CHARGEBACK_DIMENSIONS)},
                "start": TIME,
                "end": TIME,
                "rows": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "description": "One row per value of `by` (named by it).",
                        "properties": {**SPEND, "cost_usd": NUMBER},
                    },
                },
            }
        ),
        "InstancePrices": closed(
            {
                "date": {**STRING, "format": "date"},
                "source": STRING,
                "region": STRING,
                "currency": STRING,
                "spot_factor": NUMBER,
                "instances": {
                    "type": "object",
                    "additionalProperties": closed(
                        {"hourly": NUMBER, "accelerators": STRING}, ["hourly"]
                    ),
                },
            },
            ["instances"],
            description="The instance price table the seed method reads.",
        ),
        "SeedPricing": from_fields(SEED_PRICING_FIELDS, required=True),
        "SeedPrices": closed(
            {
                "method": {"const": "seed"},
                "instance": NULLABLE_STRING,
                "hourly": {**NUMBER, "description": "On-demand USD per hour."},
                "spot_factor": {"type": ["number", "null"]},
                "tokens_per_second": NUMBER,
                "total_per_million": {**NUMBER, "description": "USD, to the cent."},
                "input_per_million": {**NUMBER, "description": "USD, to the cent."},
                "output_per_million": {**NUMBER, "description": "USD: the total's rest."},
                "input_cost_per_token": NUMBER,
                "output_cost_per_token": NUMBER,
            },
            [
                "method",
                "hourly",
                "tokens_per_second",
                "total_per_million",
                "input_per_million",
                "output_per_million",
                "input_cost_per_token",
                "output_cost_per_token",
            ],
        ),
        "Health": closed(
            {
                "status": {"const": "ok"},
                "version": STRING,
                "database": closed(
                    {
                        "reachable": {"type": "boolean"},
                        "revision": NULLABLE_STRING,
                        "head": STRING,
                        "error": STRING,
                    }
                ),
            }
        ),
        "Server": closed(
            {
                "name": {**STRING, "description": 'Its name ("" for the default server).'},
                "profile": {**NULLABLE_STRING, "description": "The profile it started with."},
                "started": NULLABLE_TIME,
                "last_activity": NULLABLE_TIME,
                "status": {"enum": list(SERVER_STATUSES)},
                "url": {**STRING, "description": "Where it opens (a path on the hub's host)."},
            },
            ["name", "status", "url"],
        ),
        "StartServer": from_fields(SERVER_FIELDS),
        "Info": closed(
            {
                "version": STRING,
                "user": STRING,
                "server": NULLABLE_STRING,
                "gateway_url": STRING,
                "base_url": STRING,
            }
        ),
    }


# -- the operations, by handler ------------------------------------------------------------

ADMIN_ERRORS = (400, 401, 403, 404, 409, 413)


def _collection(schema: str, new: str, field: str, what: str) -> dict:
    return {
        "get": op(
            f"All {what} (admins)",
            {"200": _json(array_of(field, ref(schema)), what), **_errors(401, 403)},
        ),
        "post": op(
            f"Add one of the {what} (admins; audited)",
            {"201": _json(ref(schema), "Created"), **_errors(400, 401, 403, 409, 413)},
            requestBody=_body(ref(new)),
        ),
    }


def _item(schema: str, changes: str, what: str) -> dict:
    return {
        "get": op(
            f"One {what} (admins)", {"200": _json(ref(schema), what), **_errors(401, 403, 404)}
        ),
        "patch": op(
            f"Change some fields of a {what} (admins; audited)",
            {"200": _json(ref(schema), "Changed"), **_errors(*ADMIN_ERRORS)},
            requestBody=_body(ref(changes)),
        ),
        "delete": op(
            f"Remove a {what} (admins; audited)",
            {**no_content("Removed"), **_errors(401, 403, 404)},
        ),
    }


# starting and stopping one server (the default one, or a named one)
SERVER_OPERATIONS = {
    "post": op(
        "Start the server with a profile (asked of the hub as you)",
        {
            "201": _json(ref("Server"), "Started and ready"),
            "202": _json(ref("Server"), "Starting"),
            **_errors(400, 401, 403, 404, 409, 413, 502, 503),
        },
        requestBody=_body(ref("StartServer")),
    ),
    "delete": op(
        "Stop the server (asked of the hub as you)",
        {
            "202": _json(ref("Server"), "Stopping"),
            **no_content("Stopped"),
            **_errors(400, 401, 403, 404, 502, 503),
        },
    ),
}
PROFILE_QUERY = _query("profile", STRING, "A profile's slug (default: the default profile)")
POLICY_ANSWER = {
    "200": _json(ref("Policy"), "Effective policy"),
    **_errors(400, 401, 403, 404),
}

# handler class name -> {"parameters": [query parameters], method: operation}
OPERATIONS: dict[str, dict] = {
    "AdminModelsHandler": _collection("AdminModel", "NewModel", "models", "catalog models"),
    "AdminModelHandler": _item("AdminModel", "ModelChanges", "catalog model"),
    "AdminProfilesHandler": _collection("Profile", "NewProfile", "profiles", "profiles"),
    "AdminProfileHandler": _item("Profile", "ProfileChanges", "profile"),
    "AdminOverridesHandler": {
        "get": op(
            "Every group and user override (admins)",
            {
                "200": _json(array_of("overrides", ref("Override")), "Overrides"),
                **_errors(401, 403),
            },
        )
    },
    "AdminOverrideHandler": {
        "get": op(
            "One override", {"200": _json(ref("Override"), "Override"), **_errors(401, 403, 404)}
        ),
        "put": op(
            "Set a group's or user's override (admins; audited)",
            {
                "200": _json(ref("Override"), "Replaced"),
                "201": _json(ref("Override"), "Created"),
                **_errors(400, 401, 403, 404, 413),
            },
            requestBody=_body(ref("OverrideFields")),
        ),
        "delete": op(
            "Remove an override (admins; audited)",
            {**no_content("Removed"), **_errors(401, 403, 404)},
        ),
    },
    "TeamsHandler": {
        "get": op(
            "The teams you administer (every team for MaaS admins)",
            {"200": _json(array_of("teams", ref("Team")), "Teams"), **_errors(401)},
        ),
    },
    "AdminTeamHandler": {
        "put": op(
            "Make a hub group a team, or change the models its admins choose among (MaaS "
            "admins; audited)",
            {
                "200": _json(ref("Team"), "Changed"),
                "201": _json(ref("Team"), "Made a team"),
                **_errors(400, 401, 403, 413),
            },
            requestBody=_body(ref("TeamFields")),
        ),
        "delete": op(
            "The group is no team any more (MaaS admins; audited)",
            {**no_content("Removed"), **_errors(401, 403, 404)},
        ),
    },
    "TeamSettingsHandler": {
        "get": op(
            "A team's settings (its admins)", {"200": _json(ref("Team"), "Team"), **TEAM_ERRORS}
        ),
        "patch": op(
            "Change a team's models, budgets, cap, term or alert share (its admins; audited)",
            {"200": _json(ref("Team"), "Changed"), **_errors(400, 401, 403, 404, 413)},
            requestBody=_body(ref("TeamSettings")),
        ),
    },
    "TeamMembersHandler": {
        "parameters": [_query("format", {"enum": ["json", "csv"]}, "csv: one line per window")],
        "get": op(
            "The roster: each member's spend per window, requests, last use, top notebooks",
            {**_json_or_csv(ref("TeamRoster"), "Roster"), **_errors(400, 401, 403, 404)},
        ),
    },
    "TeamMemberHandler": {
        "put": op(
            "Give a member their own budgets within the team's cap (its admins; audited)",
            {
                "200": _json(ref("TeamMemberAdjustment"), "Replaced"),
                "201": _json(ref("TeamMemberAdjustment"), "Created"),
                **_errors(400, 401, 403, 404, 413),
            },
            requestBody=_body(ref("TeamMemberBudgets")),
        ),
        "delete": op(
            "Back to the team's budgets (its admins; audited)",
            {**no_content("Removed"), **TEAM_ERRORS},
        ),
    },
    "TeamMemberKeysHandler": {
        "delete": op(
            "Revoke every key of a member (its admins; audited)",
            {
                "200": _json(closed({"revoked": INTEGER}), "How many were revoked"),
                **TEAM_ERRORS,
            },
        ),
    },
    "TeamUsageHandler": {
        "parameters": [_query("days", {"type": "integer", "minimum": 1, "maximum": 366})],
        "get": op(
            "The members' spend and requests by day and model (its admins)",
            {"200": _json(ref("TeamUsage"), "Usage"), **_errors(400, 401, 403, 404)},
        ),
    },
    "TeamAuditHandler": {
        "get": op(
            "Changes to the team and its members' budgets, newest first (its admins)",
            {"200": _json(array_of("entries", ref("AuditEntry")), "Audit log"), **TEAM_ERRORS},
        ),
    },
    "AdminPolicyHandler": {
        "parameters": [PROFILE_QUERY],
        "get": op("A user's effective policy (admins)", POLICY_ANSWER),
    },
    "UserPolicyHandler": {
        "parameters": [PROFILE_QUERY],
        "get": op("Your effective policy and this period's spend", POLICY_ANSWER),
    },
    "AdminKeysHandler": {
        "parameters": [
            _query("user", STRING),
            _query("state", {"enum": list(KEY_STATES)}),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 10000}),
        ],
        "get": op(
            "Every user's keys, newest first, metadata only (admins)",
            {"200": _json(array_of("keys", ref("AdminKey")), "Keys"), **_errors(400, 401, 403)},
        ),
    },
    "AdminKeyHandler": {
        "delete": op(
            "Revoke any user's key (admins; audited)",
            {**no_content("Revoked"), **_errors(401, 403, 404)},
        ),
    },
    "AdminAuditHandler": {
        "parameters": [
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
            *(_query(name, STRING, "Only entries with this value") for name in AUDIT_FILTERS),
            _query("since", TIME, "Only entries from this instant on"),
        ],
        "get": op(
            "Admin changes, newest first (admins)",
            {
                "200": _json(array_of("entries", ref("AuditEntry")), "Audit log"),
                **_errors(400, 401, 403),
            },
        ),
    },
    "AdminChargebackHandler": {
        "parameters": [
            _query("by", {"enum": list(CHARGEBACK_DIMENSIONS)}),
            _query("start", TIME),
            _query("end", TIME),
            _query("format", {"enum": ["json", "csv"]}),
        ],
        "get": op(
            "Spend per user, group, profile or model over a period (admins)",
            {**_json_or_csv(ref("Chargeback"), "Chargeback"), **_errors(400, 401, 403)},
        ),
    },
    "AdminPricingHandler": {
        "get": op(
            "The instance price table (admins)",
            {"200": _json(ref("InstancePrices"), "Instance prices"), **_errors(401, 403)},
        ),
        "post": op(
            "Per-token prices by the seed method, from an instance or an hourly price and "
            "a throughput (admins; changes nothing)",
            {"200": _json(ref("SeedPrices"), "Prices"), **_errors(400, 401, 403, 413)},
            requestBody=_body(ref("SeedPricing")),
        ),
    },
    "HealthHandler": {
        "get": op(
            "Liveness and the database's state (always 200 while the service runs)",
            {"200": _json(ref("Health"), "Service is up")},
            security=[],
        )
    },
    "OpenAPIHandler": {
        "get": op(
            "This document", {"200": _json({"type": "object"}, "OpenAPI document")}, security=[]
        )
    },
    "InfoHandler": {
        "get": op(
            "Who you are and the gateway's URL", {"200": _json(ref("Info"), "Info"), **_errors(401)}
        )
    },
    "ModelsHandler": {
        "get": op(
            "Enabled catalog models",
            {"200": _json(array_of("models", ref("Model")), "The catalog"), **_errors(401)},
        )
    },
    "ProfilesHandler": {
        "get": op(
            "The notebook profiles open to you (to a service: all)",
            {
                "200": _json(
                    closed(
                        {
                            "profiles": {"type": "array", "items": ref("Profile")},
                            "idle_teams": {
                                "type": "object",
                                "additionalProperties": STRING,
                                "description": "Teams outside their terms, with why: "
                                "they open no profile now.",
                            },
                        },
                        ["profiles"],
                    ),
                    "The profiles",
                ),
                **_errors(401),
            },
        )
    },
    "UserKeysHandler": {
        "get": op(
            "Your keys (metadata only)",
            {"200": _json(array_of("keys", ref("OwnKey")), "Keys"), **_errors(401, 403)},
        ),
        "post": op(
            "Issue a server key (server_name) or a personal key (name)",
            {
                "201": _json(ref("IssuedKey"), "Issued"),
                **_errors(400, 401, 403, 404, 409, 413, 503),
            },
            requestBody=_body(ref("NewKey")),
        ),
    },
    "UserKeyHandler": {
        "get": op(
            "One of your keys (metadata and state; a server's token: its own key)",
            {"200": _json(ref("Key"), "The key"), **_errors(401, 403, 404)},
        ),
        "patch": op(
            "Rename a personal key or narrow it to some of your models",
            {"200": _json(ref("Key"), "Changed"), **_errors(400, 401, 403, 404, 409, 413)},
            requestBody=_body(ref("KeyChanges")),
        ),
        "delete": op("Revoke a key", {**no_content("Revoked"), **_errors(401, 403, 404)}),
    },
    "UserKeyRegenerateHandler": {
        "post": op(
            "A new secret for an active personal key (same id, settings and history)",
            {"200": _json(ref("IssuedKey"), "Regenerated"), **_errors(401, 403, 404, 409)},
        ),
    },
    "KernelKeyHandler": {
        "put": op(
            "The key of one kernel of your server, derived from the server's key (issued "
            "the first time, its notebook path updated after)",
            {
                "201": _json(ref("IssuedKernelKey"), "Issued"),
                "200": _json(ref("Key"), "Notebook path updated"),
                **_errors(400, 401, 403, 404, 409, 413, 429),
            },
            requestBody=_body(from_fields(KERNEL_KEY_FIELDS)),
        ),
        "delete": op(
            "Revoke a kernel's key (the kernel stopped)",
            {**no_content("Revoked"), **_errors(401, 403, 404, 409)},
        ),
    },
    "PlaygroundHandler": {
        "post": op(
            "The portal's chat playground: one of your models answers the conversation, "
            "streamed, through the gateway with a key the service holds for you (counted "
            "as your notebook 'playground')",
            {
                "200": {
                    "description": "The gateway's stream: chat completion chunks as "
                    "server-sent events, the last with the turn's usage, then [DONE]",
                    "content": {
                        "text/event-stream": {
                            "schema": {
                                "type": "object",
                                "required": ["data"],
                                "properties": {
                                    "data": {
                                        **STRING,
                                        "description": "A chat completion chunk as JSON, or [DONE]",
                                    },
                                    "event": STRING,
                                    "id": STRING,
                                },
                                "description": "One server-sent event",
                            }
                        }
                    },
                },
                **_errors(400, 401, 403, 413),
                "default": _json(
                    ref("Error"),
                    "The gateway's refusal, with its status and sentence (a model you may "
                    "not use, a spent budget, a rate limit); 502 if it cannot be reached",
                ),
            },
            requestBody=_body(from_fields(PLAYGROUND_FIELDS, required=True)),
        ),
    },
    "UserKeyRenewHandler": {
        "post": op(
            "Extend an active key's expiry (the key does not change)",
            {"200": _json(ref("Key"), "Renewed"), **_errors(401, 403, 404, 409)},
        ),
    },
    "UserUsageHandler": {
        "parameters": [
            _query(
                "period",
                {"enum": list(PERIODS)},
                "The current budget window, from its start (takes precedence over days)",
            ),
            _query("since", TIME, "From this instant on (a budget's period_start)"),
            _query("days", {"type": "integer", "minimum": 1, "maximum": 366}),
            _query("model", STRING, "Only this model's requests"),
            _query("key_id", STRING, "Only this key's requests"),
            _query("server_name", STRING, "Only this server's requests"),
            _query("format", {"enum": ["json", "csv"]}, "csv: every request, for download"),
        ],
        "get": op(
            "Your spend by model, key and day, your last requests, and your requests the "
            "gateway refused, by status and reason",
            {
                "200": {
                    "description": "Usage",
                    "content": {
                        "application/json": {"schema": ref("Usage")},
                        "text/csv": {
                            **STRING,
                            "description": f"Columns: {', '.join(CSV_COLUMNS)}",
                        },
                    },
                },
                **_errors(400, 401, 403),
            },
        ),
    },
    "ServersHandler": {
        "get": op(
            "Your servers that run, start or stop (asked of the hub as you)",
            {
                "200": _json(array_of("servers", ref("Server")), "Servers"),
                **_errors(401, 403, 502, 503),
            },
        )
    },
    "DefaultServerHandler": SERVER_OPERATIONS,
    "ServerHandler": SERVER_OPERATIONS,
    "HubEventsHandler": {
        "post": op(
            "The hub's notice that a server starts (its key's profile) or stopped, or a "
            "user was deleted: their keys are revoked (only with this service's own token, "
            "as hub_service.hub_hooks sends it)",
            {
                "200": _json(closed({"revoked": INTEGER}), "Keys revoked"),
                **_errors(400, 401, 403, 413),
            },
            requestBody=_body(
                closed(
                    {
                        "event": {"enum": ["server-starting", "server-stopped", "user-deleted"]},
                        "user": {**STRING, "maxLength": 255},
                        "server_name": STRING,
                        "profile": NULLABLE_STRING,
                        "user_created": NULLABLE_TIME,
                        "groups": {**STRINGS, "description": "server-starting: its user's"},
                        "admin": {"type": "boolean", "description": "server-starting"},
                        "token_hash": {
                            **NULLABLE_STRING,
                            "pattern": "^[0-9a-f]{64}$",
                            "description": "server-starting: the SHA-256 of the server's "
                            "own token (hub_service.starts)",
                        },
                        "at": TIME,
                    },
                    ["event", "user", "at"],
                )
            ),
        ),
    },
}

# -- the paths, from the route table --------------------------------------------------------

# descriptions of path parameters, by the name of their group in the route patterns
PARAMETER_TEXT = {
    "name": "A model's catalog name, or a group's or user's name. A Hugging Face style "
    "id's / may be sent URL-encoded (admin/models/Qwen%2FQwen2.5-7B-Instruct) or as it is.",
    "key_id": "A key's id (its metadata's `id`).",
    "user": "A hub user's name.",
    "slug": "A profile's slug.",
    "kind": "Whose override: a hub group's or a user's.",
    "server_name": "A named server's name (the default server has none: .../server).",
}
GROUP = re.compile(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)")
WORDS = re.compile(r"^\w+(?:\|\w+)+$")
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def openapi_path(pattern: str) -> str:
    """``users/(?P<user>[^/]+)/keys`` as ``/users/{user}/keys``."""
    return "/" + GROUP.sub(r"{\1}", pattern).replace("\\.", ".")


def path_parameters(pattern: str) -> list[dict]:
    """One parameter per named group; a group of alternative words is an enum."""
    params = []
    for name, body in GROUP.findall(pattern):
        if WORDS.match(body):
            schema = {"enum": body.split("|")}
        else:  # the route's own pattern (these are ECMAScript-compatible too)
            schema = {**STRING, "pattern": f"^{body}$"}
        param = {"name": name, "in": "path", "required": True, "schema": schema}
        if name in PARAMETER_TEXT:
            param["description"] = PARAMETER_TEXT[name]
        params.append(param)
    return params


def implemented_methods(handler: type) -> set[str]:
    """The HTTP methods a handler class answers (its own or a base's, not tornado's)."""
    from tornado.web import RequestHandler

    return {m for m in HTTP_METHODS if getattr(handler, m) is not getattr(RequestHandler, m)}


def openapi_document(prefix: str, api_routes: list) -> dict:
    """The document for a service under ``prefix`` routing ``api_routes`` ((pattern
    under api/v1/, handler class) pairs)."""
    paths = {}
    for pattern, handler in api_routes:
        operations = OPERATIONS[handler.__name__]
        item = {k: v for k, v in operations.items() if k != "parameters"}
        parameters = [*path_parameters(pattern), *operations.get("parameters", [])]
        paths[openapi_path(pattern)] = {
            **({"parameters": parameters} if parameters else {}),
            **item,
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jupyterlab-maas service API",
            "version": __version__,
            "description": (
                "Model catalog, notebook profiles, keys and usage for JupyterHub users. "
                "Authenticate with a JupyterHub token (`Authorization: token ...`) that "
                "holds `access:services!service=<this service>`, or with the hub's OAuth."
            ),
        },
        "servers": [{"url": prefix.rstrip("/") + "/api/v1"}],
        "components": {
            "securitySchemes": {
                "hubToken": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "schemas": schemas(),
        },
        "security": [{"hubToken": []}],
        "paths": paths,
    }


def main() -> None:
    """Print the document (``python -m hub_service.openapi``): the portal's TypeScript
    types are generated from it (portal/: ``npm run types``)."""
    import json

    from .routes import API_ROUTES

    print(json.dumps(openapi_document("/services/maas/", API_ROUTES), indent=2))


if __name__ == "__main__":
    main()

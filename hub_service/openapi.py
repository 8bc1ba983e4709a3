"""The OpenAPI document of the service's JSON API, served at ``api/v1/openapi.json``."""

from __future__ import annotations

from . import __version__
from .keys import KEY_STATES
from .policy import PERIODS
from .validation import (
    BACKEND_HOSTS_VAR,
    DEFAULT_KEY_ENV_PREFIXES,
    EXTRA_PARAMS,
    KEY_ENV_PREFIXES_VAR,
    NAME_HINT,
)

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    text = {
        400: "Malformed input",
        401: "Not authenticated",
        403: "Not allowed for this caller",
        404: "No such resource",
        409: "Conflicts with the current state",
        413: "The request body is over the API's limit",
        503: "The hub cannot be reached",
    }
    return {str(c): _json(_ERROR, text[c]) for c in codes}


def _path_param(name: str, description: str | None = None) -> dict:
    param = {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
    if description:
        param["description"] = description
    return param


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "schema": schema}


USER = _path_param("user")
KEY_ID = _path_param("key_id")
ADMIN_ERRORS = (400, 401, 403, 404, 409, 413)


def _body(ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _admin_collection(schema: str, field: str, what: str) -> dict:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {
        "get": {
            "summary": f"All {what} (admins)",
            "responses": {
                "200": _json(
                    {"type": "object", "properties": {field: {"type": "array", "items": ref}}}, what
                ),
                **_errors(401, 403),
            },
        },
        "post": {
            "summary": f"Add one of the {what} (admins; audited)",
            "requestBody": _body(schema),
            "responses": {"201": _json(ref, "Created"), **_errors(400, 401, 403, 409, 413)},
        },
    }


MODEL_NAME = _path_param(
    "name",
    "The model's catalog name, URL-encoded: a Hugging Face style id's / as %2F "
    "(admin/models/Qwen%2FQwen2.5-7B-Instruct); the / as it is is accepted too.",
)


def _admin_item(schema: str, param: str | dict, what: str) -> dict:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {
        "parameters": [param if isinstance(param, dict) else _path_param(param)],
        "get": {
            "summary": f"One {what} (admins)",
            "responses": {"200": _json(ref, what), **_errors(401, 403, 404)},
        },
        "patch": {
            "summary": f"Change some fields of a {what} (admins; audited)",
            "requestBody": _body(schema),
            "responses": {"200": _json(ref, "Changed"), **_errors(*ADMIN_ERRORS)},
        },
        "delete": {
            "summary": f"Remove a {what} (admins; audited)",
            "responses": {"204": {"description": "Removed"}, **_errors(401, 403, 404)},
        },
    }


def _admin_paths() -> dict:
    override = {"$ref": "#/components/schemas/Override"}
    policy = _json({"$ref": "#/components/schemas/Policy"}, "Effective policy")
    profile_q = _query("profile", {"type": "string"})
    return {
        "/admin/models": _admin_collection("AdminModel", "models", "catalog models"),
        "/admin/models/{name}": _admin_item("AdminModel", MODEL_NAME, "catalog model"),
        "/admin/profiles": _admin_collection("Profile", "profiles", "profiles"),
        "/admin/profiles/{slug}": _admin_item("Profile", "slug", "profile"),
        "/admin/overrides": {
            "get": {
                "summary": "Every group and user override (admins)",
                "responses": {"200": _json({"type": "object"}, "Overrides"), **_errors(401, 403)},
            }
        },
        "/admin/overrides/{kind}/{name}": {
            "parameters": [
                {**_path_param("kind"), "schema": {"type": "string", "enum": ["group", "user"]}},
                _path_param("name"),
            ],
            "get": {
                "summary": "One override",
                "responses": {"200": _json(override, "Override"), **_errors(401, 403, 404)},
            },
            "put": {
                "summary": "Set a group's or user's override (admins; audited)",
                "requestBody": _body("Override"),
                "responses": {
                    "200": _json(override, "Replaced"),
                    "201": _json(override, "Created"),
                    **_errors(400, 401, 403, 404, 413),
                },
            },
            "delete": {
                "summary": "Remove an override (admins; audited)",
                "responses": {"204": {"description": "Removed"}, **_errors(401, 403, 404)},
            },
        },
        "/admin/policy/{user}": {
            "parameters": [USER, profile_q],
            "get": {
                "summary": "A user's effective policy (admins)",
                "responses": {"200": policy, **_errors(401, 403, 404)},
            },
        },
        "/users/{user}/policy": {
            "parameters": [USER, profile_q],
            "get": {
                "summary": "Your effective policy and this period's spend",
                "responses": {"200": policy, **_errors(401, 403, 404)},
            },
        },
        "/admin/keys": {
            "parameters": [
                _query("user", {"type": "string"}),
                _query("state", {"type": "string", "enum": list(KEY_STATES)}),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 10000}),
            ],
            "get": {
                "summary": "Every user's keys, newest first, metadata only (admins)",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "keys": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/AdminKey"},
                                }
                            },
                        },
                        "Keys",
                    ),
                    **_errors(400, 401, 403),
                },
            },
        },
        "/admin/keys/{key_id}": {
            "parameters": [KEY_ID],
            "delete": {
                "summary": "Revoke any user's key (admins; audited)",
                "responses": {"204": {"description": "Revoked"}, **_errors(401, 403, 404)},
            },
        },
        "/admin/audit": {
            "parameters": [
                _query("limit", {"type": "integer"}),
                _query("target_type", {"type": "string"}),
            ],
            "get": {
                "summary": "Admin changes, newest first (admins)",
                "responses": {
                    "200": _json({"type": "object"}, "Audit log"),
                    **_errors(400, 401, 403),
                },
            },
        },
        "/admin/chargeback": {
            "parameters": [
                _query("by", {"type": "string", "enum": ["user", "group", "profile", "model"]}),
                _query("start", {"type": "string", "format": "date-time"}),
                _query("end", {"type": "string", "format": "date-time"}),
                _query("format", {"type": "string", "enum": ["json", "csv"]}),
            ],
            "get": {
                "summary": "Spend per user, group, profile or model over a period (admins)",
                "responses": {
                    "200": {
                        "description": "Chargeback",
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **_errors(400, 401, 403),
                },
            },
        },
    }


def openapi_document(prefix: str) -> dict:
    key_ref = {"$ref": "#/components/schemas/Key"}
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
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["status", "message"],
                    "properties": {
                        "status": {"type": "integer"},
                        "message": {"type": "string"},
                    },
                },
                "Model": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string",
                            "maxLength": 255,
                            "description": f"The name clients send as model: {NAME_HINT}.",
                        },
                        "mode": {"type": "string"},
                        "description": {"type": "string"},
                        "context_window": {"type": ["integer", "null"]},
                        "max_output_tokens": {"type": ["integer", "null"]},
                        "capabilities": {"type": "array", "items": {"type": "string"}},
                        "input_cost_per_token": {"type": "number"},
                        "output_cost_per_token": {"type": "number"},
                        "enabled": {"type": "boolean"},
                    },
                },
                "Profile": {
                    "type": "object",
                    "properties": {
                        "slug": {"type": "string"},
                        "display_name": {"type": "string"},
                        "description": {"type": "string"},
                        "resources": {"type": "object"},
                        "default": {"type": "boolean"},
                        "models": {"type": "array", "items": {"type": "string"}},
                        "budget_usd": {"type": ["number", "null"]},
                        "budget_period": {"type": "string", "enum": list(PERIODS)},
                        "rpm_limit": {"type": ["integer", "null"]},
                        "tpm_limit": {"type": ["integer", "null"]},
                    },
                },
                "Key": {
                    "type": "object",
                    "description": "A key's metadata: the key itself is never returned here.",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "masked": {"type": "string", "examples": ["sk-maas-AbCd...wxyz"]},
                        "user": {"type": "string"},
                        "server_name": {"type": ["string", "null"]},
                        "profile": {"type": ["string", "null"]},
                        "created": {"type": "string", "format": "date-time"},
                        "expires_at": {"type": "string", "format": "date-time"},
                        "revoked_at": {"type": ["string", "null"], "format": "date-time"},
                        "revoked_reason": {"type": ["string", "null"]},
                        "state": {"type": "string", "enum": list(KEY_STATES)},
                    },
                },
                "AdminKey": {
                    "allOf": [
                        key_ref,
                        {
                            "type": "object",
                            "properties": {
                                "user_deleted_at": {
                                    "type": ["string", "null"],
                                    "format": "date-time",
                                    "description": "When the key's hub user was deleted.",
                                }
                            },
                        },
                    ]
                },
                "AdminModel": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Model"},
                        {
                            "type": "object",
                            "properties": {
                                "provider_model": {"type": "string"},
                                "api_base": {
                                    "type": ["string", "null"],
                                    "description": "The backend's http(s) URL: no user or "
                                    "password, no link-local or cloud metadata address; "
                                    f"one of ${BACKEND_HOSTS_VAR}'s hosts when it is set.",
                                },
                                "api_key_env": {
                                    "type": ["string", "null"],
                                    "description": "Name of the gateway's environment "
                                    "variable holding the backend key (never the key), "
                                    f"beginning with one of ${KEY_ENV_PREFIXES_VAR} "
                                    f"(default {', '.join(DEFAULT_KEY_ENV_PREFIXES)}).",
                                },
                                "extra_params": {
                                    "type": "object",
                                    "description": "LiteLLM deployment parameters, only "
                                    f"these: {', '.join(EXTRA_PARAMS)}; no os.environ/ value.",
                                },
                            },
                        },
                    ]
                },
                "Override": {
                    "type": "object",
                    "properties": {
                        "extra_models": {"type": "array", "items": {"type": "string"}},
                        "budget_usd": {"type": ["number", "null"]},
                        "budget_period": {"type": ["string", "null"]},
                        "rpm_limit": {"type": ["integer", "null"]},
                        "tpm_limit": {"type": ["integer", "null"]},
                    },
                },
                "Policy": {
                    "type": "object",
                    "properties": {
                        "user": {"type": "string"},
                        "groups": {"type": "array", "items": {"type": "string"}},
                        "profile": {"type": ["string", "null"]},
                        "models": {"type": "array", "items": {"type": "string"}},
                        "allowed_models": {"type": "array", "items": {"type": "string"}},
                        "budget_usd": {"type": ["number", "null"]},
                        "budget_period": {"type": "string"},
                        "rpm_limit": {"type": ["integer", "null"]},
                        "tpm_limit": {"type": ["integer", "null"]},
                        "sources": {"type": "object"},
                        "spend_usd": {"type": "number"},
                        "resets_at": {"type": "string", "format": "date-time"},
                    },
                },
                "IssuedKey": {
                    "allOf": [
                        key_ref,
                        {
                            "type": "object",
                            "properties": {
                                "key": {"type": "string", "description": "Shown once."},
                                "models": {"type": "array", "items": {"type": "string"}},
                                "base_url": {"type": "string"},
                            },
                        },
                    ]
                },
            },
        },
        "security": [{"hubToken": []}],
        "paths": {
            **_admin_paths(),
            "/health": {
                "get": {
                    "summary": "Liveness",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "Service is up")},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "OpenAPI document")},
                }
            },
            "/info": {
                "get": {
                    "summary": "Who you are and the gateway's URL",
                    "responses": {"200": _json({"type": "object"}, "Info"), **_errors(401)},
                }
            },
            "/models": {
                "get": {
                    "summary": "Enabled catalog models",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "models": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Model"},
                                    }
                                },
                            },
                            "The catalog",
                        ),
                        **_errors(401),
                    },
                }
            },
            "/profiles": {
                "get": {
                    "summary": "Notebook profiles",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "profiles": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Profile"},
                                    }
                                },
                            },
                            "The profiles",
                        ),
                        **_errors(401),
                    },
                }
            },
            "/users/{user}/keys": {
                "parameters": [USER],
                "get": {
                    "summary": "Your keys (metadata only)",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"keys": {"type": "array", "items": key_ref}},
                            },
                            "Keys",
                        ),
                        **_errors(401, 403),
                    },
                },
                "post": {
                    "summary": "Issue a server key (server_name) or a personal key (name)",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "server_name": {"type": "string"},
                                        "name": {"type": "string", "maxLength": 255},
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/IssuedKey"}, "Issued"),
                        **_errors(400, 401, 403, 404, 409, 413, 503),
                    },
                },
            },
            "/users/{user}/keys/{key_id}": {
                "parameters": [USER, KEY_ID],
                "delete": {
                    "summary": "Revoke a key",
                    "responses": {"204": {"description": "Revoked"}, **_errors(401, 403, 404)},
                },
            },
            "/users/{user}/keys/{key_id}/renew": {
                "parameters": [USER, KEY_ID],
                "post": {
                    "summary": "Extend an active key's expiry (the key does not change)",
                    "responses": {
                        "200": _json(key_ref, "Renewed"),
                        **_errors(401, 403, 404, 409),
                    },
                },
            },
            "/hub/events": {
                "post": {
                    "summary": "The hub's notice that a server starts (its key's profile) or "
                    "stopped, or a user was deleted: their keys are revoked (only with this "
                    "service's own token, as hub_service.hub_hooks sends it)",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["event", "user", "at"],
                                    "properties": {
                                        "event": {
                                            "type": "string",
                                            "enum": [
                                                "server-starting",
                                                "server-stopped",
                                                "user-deleted",
                                            ],
                                        },
                                        "user": {"type": "string", "maxLength": 255},
                                        "server_name": {"type": "string"},
                                        "profile": {"type": ["string", "null"]},
                                        "user_created": {
                                            "type": ["string", "null"],
                                            "format": "date-time",
                                        },
                                        "at": {"type": "string", "format": "date-time"},
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {"revoked": {"type": "integer"}}},
                            "Keys revoked",
                        ),
                        **_errors(400, 401, 403, 413),
                    },
                },
            },
            "/users/{user}/usage": {
                "parameters": [
                    USER,
                    {
                        "name": "period",
                        "in": "query",
                        "description": "The current budget period, from its start "
                        "(takes precedence over days)",
                        "schema": {"type": "string", "enum": list(PERIODS)},
                    },
                    {
                        "name": "days",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 366},
                    },
                ],
                "get": {
                    "summary": "Your spend by model, your last requests, and your "
                    "requests the gateway refused, by status and reason",
                    "responses": {
                        "200": _json({"type": "object"}, "Usage"),
                        **_errors(400, 401, 403),
                    },
                },
            },
        },
    }

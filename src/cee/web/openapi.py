"""`GET /openapi.json`: an OpenAPI 3.1 document built from the tables the server routes by.

`/apiv2` is one path whose operation is chosen by `type` and `activity`; OpenAPI keys
operations by path and method, so the document says so honestly: one POST operation whose
form body is a `oneOf` with one alternative per (type, activity) of the route table, each
pinning its `type` and `activity` with `const` and listing its own parameters (the
"discriminated query values"). A route added to `ROUTES` appears here by itself (its summary is
its handler's docstring; its parameters come from PARAMETERS, `data` when it has no entry);
`READS` says which ones honour Idempotency-Key; the error codes are the error table's. The v3
endpoints, the probes and `/metrics` follow.
"""

from __future__ import annotations

import inspect
from typing import Any

from cee import __version__
from cee.web.apiv2.routes import READS, ROUTES, TYPES
from cee.web.errors import ERROR_CODES

STRING = {"type": "string"}
# A listid travels as text in a form; the server reads it as an integer.
INTEGER_TEXT = {"type": "string", "pattern": "^[0-9]{1,18}$"}

# Each activity's own form parameters: name -> (schema, required). `type`, `activity` and
# `apikey` are everyone's and not repeated here.
PARAMETERS: dict[tuple[str, str], dict[str, tuple[dict[str, Any], bool]]] = {
    ("contact", "addsync"): {"data": (STRING, True), "listid": (INTEGER_TEXT, False)},
    ("contact", "add"): {"data": (STRING, True), "listid": (INTEGER_TEXT, False)},
    ("contact", "update"): {"data": (STRING, True), "listid": (INTEGER_TEXT, False)},
    ("contact", "updatesync"): {"data": (STRING, True), "listid": (INTEGER_TEXT, False)},
    ("contact", "delete"): {"data": (STRING, True), "listid": (INTEGER_TEXT, True)},
    ("contact", "view"): {"data": (STRING, True)},
    ("contact", "blacklist"): {"data": (STRING, True)},
    ("contact", "unblacklist"): {"data": (STRING, True)},
    ("contact", "bulkupload"): {
        "path": (STRING, True),
        "listid": (INTEGER_TEXT, False),
        "callback": (STRING, False),
        "notifyemail": (STRING, False),
    },
    ("lists", "create"): {"listname": (STRING, True)},
    ("lists", "getalllist"): {},
    ("lists", "emptylist"): {"listname": (STRING, True), "async": (STRING, False)},
    ("request", "status"): {"requestid": (STRING, True)},
    ("request", "rejects"): {"requestid": (STRING, True), "page": (INTEGER_TEXT, False)},
    ("erasure_user_data", "request_erasure_data"): {"primary_key": (STRING, True)},
    ("export_data", "get_user_summary_data"): {"data": (STRING, True)},
    ("export_data", "get_user_activity_data"): {"data": (STRING, True)},
    ("export_data", "get_user_channel_activity_data"): {"data": (STRING, True)},
    ("attributes", "create"): {"name": (STRING, True), "datatype": (STRING, True)},
    ("attributes", "getall"): {},
}
DEFAULT_PARAMETERS: dict[str, tuple[dict[str, Any], bool]] = {"data": (STRING, False)}
# A working request for the activities where one can be written down (the fuzzer's "examples"
# phase sends them, so it reaches the paths that succeed, not only the refusals).
MIKE = '{"EMAIL": "mike@example.com", "FIRST_NAME": "Mike"}'
EXAMPLES: dict[tuple[str, str], dict[str, str]] = {
    ("contact", "addsync"): {"data": MIKE},
    ("contact", "add"): {"data": MIKE},
    ("contact", "update"): {"data": MIKE},
    ("contact", "updatesync"): {"data": MIKE},
    ("contact", "view"): {"data": "mike@example.com"},
    ("contact", "blacklist"): {"data": "mike@example.com"},
    ("contact", "unblacklist"): {"data": "mike@example.com"},
    ("lists", "create"): {"listname": "newsletter"},
    ("attributes", "create"): {"name": "PLAN", "datatype": "textline"},
    ("erasure_user_data", "request_erasure_data"): {"primary_key": "mike@example.com"},
}

# For handlers whose docstring does not say it (a docstring, when there is one, wins).
SUMMARIES: dict[tuple[str, str], str] = {
    ("contact", "addsync"): "Create the contact(s) before answering (the seed); 302 if the "
    "primary key exists; with `listid` they join that list.",
    ("contact", "view"): "(ext) The contact's attributes, lists, blacklist state and times.",
    ("contact", "bulkupload"): "Import a CSV from the URL in `path` in the background (upserts "
    "like add); its outcome under the requestid.",
    ("lists", "create"): "(ext) A new list named `listname`.",
    ("lists", "getalllist"): "Every list: id, name, member count.",
    ("export_data", "get_user_activity_data"): "The contact's change history in a range of at "
    "most seven days, in batches.",
    ("export_data", "get_user_channel_activity_data"): "The contact's changes of one channel "
    "(email, sms) in a range of at most seven days.",
    ("attributes", "create"): "(ext) Define an attribute: `name` and `datatype`.",
    ("attributes", "getall"): "(ext) Every attribute of the account with its datatype.",
}

# The codes each surface answers besides 200 (the error table's, where it applies).
APIV2_ERRORS = sorted({code for code in ERROR_CODES.values() if code not in (405, 500)})
V3_ERRORS = [400, 401, 403, 404, 405, 409, 413, 422, 429]

ERROR = {
    "type": "object",
    "required": ["status", "error_code", "details"],
    "properties": {
        "status": {"const": "error"},
        "error_code": {"type": "integer"},
        "details": {"type": "string"},
        "requestid": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "result": {"type": "string"},
    },
}
# The key may also come in the form body (the body wins); the query is where clients put it.
APIKEY = {
    "name": "apikey",
    "in": "query",
    "required": True,
    "description": "The API key of a user (see docs/api.md#authentication).",
    "schema": STRING,
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "(ext) Answer this write once: a retry with the same key and request "
    "replays the first answer (Idempotent-Replayed: true); another request with it is a 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def _summary(kind: str, activity: str) -> str:
    doc = inspect.getdoc(ROUTES[kind, activity]) or SUMMARIES.get((kind, activity), "")
    first = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    return first or f"type={kind}, activity={activity}"


def activity_schema(kind: str, activity: str) -> dict[str, Any]:
    """One alternative of the /apiv2 body: its type and activity pinned, its parameters."""
    own = PARAMETERS.get((kind, activity), DEFAULT_PARAMETERS)
    properties: dict[str, Any] = {"type": {"const": kind}, "activity": {"const": activity}}
    properties.update({name: schema for name, (schema, _) in own.items()})
    required = ["type", "activity", *(name for name, (_, needed) in own.items() if needed)]
    example = EXAMPLES.get((kind, activity), {} if not required[2:] else None)
    extra: dict[str, Any] = {}
    if example is not None:
        extra["examples"] = [{"type": kind, "activity": activity, **example}]
    return {
        **extra,
        "title": f"{kind} {activity}",
        "description": _summary(kind, activity),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "x-cee-write": (kind, activity) not in READS,
    }


def _answers(codes: list[int], ok: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "done", "content": ok}}
    for code in codes:
        out[str(code)] = {
            "description": "the contract's error envelope",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return out


def _apiv2() -> dict[str, Any]:
    alternatives = [activity_schema(kind, activity) for kind, activity in ROUTES]
    ok = {
        "application/json": {"schema": {"type": "object"}},
        "text/csv": {"schema": {"type": "string"}},  # request rejects: a bulk job's failed rows
    }
    activities = sorted({a for _, a in ROUTES})
    query = [
        APIKEY,
        {"name": "type", "in": "query", "required": True, "schema": {"enum": TYPES}},
        {"name": "activity", "in": "query", "required": True, "schema": {"enum": activities}},
        *(
            {"name": name, "in": "query", "required": False, "schema": STRING}
            for name in sorted({n for params in PARAMETERS.values() for n in params})
        ),
    ]
    description = (
        "Netcore's contact API: one path, the operation chosen by `type` and `activity`. "
        "The body's alternatives are the operations, one per (type, activity)."
    )
    return {
        "post": {
            "operationId": "apiv2",
            "summary": "/apiv2, the operation chosen by type and activity (form body)",
            "description": description,
            "parameters": [APIKEY, IDEMPOTENCY_KEY],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {"schema": {"oneOf": alternatives}}
                },
            },
            "responses": _answers(APIV2_ERRORS, ok),
        },
        "get": {
            "operationId": "apiv2_get",
            "summary": "/apiv2 with every parameter in the query (the same operations as POST)",
            "parameters": query,
            "responses": _answers(APIV2_ERRORS, ok),
        },
    }


def _v3(summary: str, body: dict[str, Any], headers: list[str]) -> dict[str, Any]:
    params = [
        {"name": "api-key", "in": "header", "required": True, "schema": STRING},
        *({"name": h, "in": "header", "required": False, "schema": STRING} for h in headers),
        IDEMPOTENCY_KEY,
    ]
    return {
        "post": {
            "summary": summary,
            "parameters": params,
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": _answers(V3_ERRORS, {"application/json": {"schema": {"type": "object"}}}),
        }
    }


def _probe(summary: str, codes: dict[str, str], media: str = "application/json") -> dict[str, Any]:
    schema = {"type": "string"} if media.startswith("text/") else {"type": "object"}
    return {
        "get": {
            "summary": summary,
            "responses": {
                code: {"description": text, "content": {media: {"schema": schema}}}
                for code, text in codes.items()
            },
        }
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document (built once per process: the tables do not change)."""
    contacts = {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"type": "object"}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CEE contact engine",
            "version": __version__,
            "description": "Netcore CE's /apiv2 contact API and v3 JSON endpoints, with CEE's "
            "extensions; see docs/api.md.",
        },
        "components": {
            "schemas": {"Error": ERROR},
        },
        "paths": {
            "/apiv2": _apiv2(),
            "/v3/contact/batchadd": _v3(
                "add up to 1,000 contacts, journaled (Netcore's batch API)",
                {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "data": contacts,
                        "listid": {"type": "integer"},
                        "primarykey": STRING,
                        "notifyemail": STRING,
                        "callback": STRING,
                    },
                },
                [],
            ),
            "/v3/contact/blacklist": _v3(
                "blacklist the email channel of contacts, creating unknown ones",
                {
                    "type": "object",
                    "required": ["data"],
                    "properties": {"data": {**contacts, "items": STRING}},
                },
                ["primarykey", "channel"],
            ),
            "/healthz": _probe("liveness: the process answers (no I/O)", {"200": "up"}),
            "/health": _probe("liveness, the older name of /healthz", {"200": "up"}),
            "/readyz": _probe(
                "readiness: the database answers and every migration is applied",
                {"200": "ready", "503": "not ready, with the reason"},
            ),
            "/metrics": _probe(
                "Prometheus metrics (text format)", {"200": "the metrics"}, "text/plain"
            ),
            "/openapi.json": _probe("this document", {"200": "OpenAPI 3.1"}),
        },
    }

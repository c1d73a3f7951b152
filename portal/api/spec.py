"""The OpenAPI 3 document, generated from the code: each API view declares its operation next to itself
(`@operation(...)`) and the paths come from Flask's URL map, so the document cannot drift from the routes.

`@operation` also enforces the token scopes it declares, and validates the call's query string and JSON body
against the schemas it publishes (portal.api.validation) before the view runs.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import wraps

from flask import Flask, g
from flask_babel import gettext

from portal.api.models import SCOPES

def english(text: str) -> str:
    """Marks an English text of the document for the catalogues (`make translations` extracts it, as it does
    the summaries of `operation` and the descriptions of `query`): the published document is English, and the
    docs page shows it in the reader's language (`in_language`)."""
    return text


ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "incident": {"type": "string"},
        "field": {"type": ["string", "null"]},
        "items": {"type": "array", "items": {
            "type": "object", "properties": {"index": {"type": "integer"}, "message": {"type": "string"}}}},
    },
}

STATUS_TEXT = {
    200: english("OK"), 201: english("Created; the answer holds the new object"),
    400: english("The body is not a JSON object"),
    401: english("No usable token"), 403: english("The token's scope or its user's role does not allow this"),
    404: english("Not found or outside the caller's reach"), 409: english("Conflicts with the current state"),
    422: english("Invalid input"), 428: english("If-Match is required"), 429: english("Rate limit exceeded"),
}


class ScopeMissing(Exception):
    """The caller's token has none of the scopes an operation needs (answered 403 by the API's views)."""

    def __init__(self, scopes: tuple[str, ...]):
        super().__init__(" or ".join(scopes))
        self.scopes = scopes


@dataclass
class Operation:
    summary: str
    scopes: tuple[str, ...] = ()  # any one of them suffices; empty: public
    parameters: list[dict] = field(default_factory=list)
    body: dict | None = None
    responses: dict[int, dict | None] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    tag: str = "requests"
    content_type: str = "application/json"
    headers: list[dict] = field(default_factory=list)


def operation(summary: str, *, scopes: tuple[str, ...] = (), parameters: list[dict] | None = None,
              body: dict | None = None, responses: dict[int, dict | None] | None = None,
              errors: tuple[int, ...] = (), tag: str = "requests", content_type: str = "application/json",
              headers: list[dict] | None = None):
    """Declare an API operation; a call whose token lacks every one of `scopes` is refused (403)."""
    for scope in scopes:
        if scope not in SCOPES:
            raise KeyError(f"unknown scope {scope!r}")
    declared = Operation(summary, tuple(scopes), list(parameters or []), body, dict(responses or {200: None}),
                         tuple(errors), tag, content_type, list(headers or []))

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if declared.scopes:
                token = g.get("api_token")
                if token is None or not (token.scope_set & set(declared.scopes)):
                    raise ScopeMissing(declared.scopes)
            from portal.api import validation

            g.api_query = validation.validate_query([*declared.parameters, LANG])
            if declared.body is not None:
                g.api_body = validation.validate_body(declared.body)
            return view(*args, **kwargs)

        wrapped.api_operation = declared
        return wrapped

    return decorate


# Every operation takes ?lang= (portal.i18n), which chooses the language of the messages.
LANG = {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": ["ko", "en"]},
        "description": english("The language of error messages")}


def query(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def header(name: str, schema: dict, description: str, *, required: bool = False) -> dict:
    return {"name": name, "in": "header", "required": required, "schema": schema, "description": description}


_ARGUMENT = re.compile(r"<(?:([a-zA-Z_]+)(?:\(([^)]*)\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def _path_of(rule) -> tuple[str, list[dict]]:
    parameters = []

    def replace(match):
        converter, arguments, name = match.group(1), match.group(2), match.group(3)
        schema = {"type": "string"}
        if converter == "int":
            schema = {"type": "integer", "minimum": 0}
            limit = re.search(r"max\s*=\s*(\d+)", arguments or "")
            if limit:
                schema["maximum"] = int(limit.group(1))
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _ARGUMENT.sub(replace, rule.rule), parameters


def openapi_document(app: Flask, blueprint: str = "api") -> dict:
    """The OpenAPI 3.1 document of every route of `blueprint` that declares an operation."""
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(blueprint + "."):
            continue
        declared: Operation | None = getattr(app.view_functions[rule.endpoint], "api_operation", None)
        if declared is None:
            continue
        path, path_parameters = _path_of(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation_object(rule.endpoint, declared, path_parameters)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Platform Cooperation Portal API",
            "version": "1.0.0",
            "description": "Formal requests between Korean regulators and online platforms. Authenticate with "
                           "`Authorization: Bearer <token>`; tokens are made in the portal under My account. "
                           "Errors are JSON objects with `error` (a code) and `message`.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A personal API token (pcp_...)."}},
            "schemas": {"Error": ERROR},
        },
    }


def _operation_object(endpoint: str, declared: Operation, path_parameters: list[dict]) -> dict:
    statuses = dict(declared.responses)
    errors = set(declared.errors) | {422, 429}  # every operation validates its query string
    if declared.scopes:
        errors |= {401, 403}
    if path_parameters:
        errors.add(404)
    if declared.body is not None:
        errors |= {400, 422}
    responses = {}
    for status, schema in sorted(statuses.items()):
        if schema is None:
            responses[str(status)] = {"description": STATUS_TEXT.get(status, "OK"),
                                      "content": {declared.content_type: {"schema": {}}}}
        else:
            responses[str(status)] = {"description": STATUS_TEXT.get(status, "OK"),
                                      "content": {declared.content_type: {"schema": schema}}}
    for status in sorted(errors):
        responses[str(status)] = {"description": STATUS_TEXT[status],
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    result = {
        "operationId": endpoint.split(".", 1)[1],
        "summary": declared.summary,
        "tags": [declared.tag],
        "parameters": path_parameters + declared.parameters + [LANG] + declared.headers,
        "responses": responses,
    }
    if declared.scopes:
        result["security"] = [{"bearerAuth": []}]
        result["x-scopes"] = list(declared.scopes)
    else:
        result["security"] = []
    if declared.body is not None:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": declared.body}}}
    return result


def in_language(document: dict) -> dict:
    """The document as the docs page shows it: each operation's summary, its parameters' descriptions and its
    answers' descriptions in the current language (the English texts are the catalogues' msgids)."""
    translate = gettext  # of texts held in variables, extracted where they are written (`english`, `operation`)
    translated = copy.deepcopy(document)
    for methods in translated["paths"].values():
        for op in methods.values():
            op["summary"] = translate(op["summary"])
            for parameter in op["parameters"]:
                if parameter.get("description"):
                    parameter["description"] = translate(parameter["description"])
            for answer in op["responses"].values():
                answer["description"] = translate(answer["description"])
    return translated

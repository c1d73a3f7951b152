"""Bodies and query strings are validated against the very schemas that openapi.json publishes
(JSON Schema Draft 2020-12), before the view runs; then text, integers and date-times go through the one
input reader (portal.core.input), so NUL, look-alike digits and dates outside 2000-2100 never reach a view.

A refusal answers 422 `{"error": "validation_error", "message": ..., "field": ...}` naming the first field.
"""
from __future__ import annotations

from functools import lru_cache
import json

import jsonschema_rs
from flask import request
from flask_babel import gettext as _

from portal.core import input as reader
from portal.core.exceptions import ValidationError

MAX_QUERY_VALUE = 2000


@lru_cache(maxsize=None)
def _validator(schema_json: str):
    return jsonschema_rs.Draft202012Validator(json.loads(schema_json), validate_formats=True)


def validator(schema: dict):
    return _validator(json.dumps(schema, sort_keys=True))


def _path(error) -> str | None:
    parts = [str(p) for p in error.instance_path]
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        parts.append(kind.unexpected[0])
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        parts.append(str(kind.property))
    return ".".join(parts) or None


def _message(error) -> str:
    kind = error.kind
    kinds = jsonschema_rs.ValidationErrorKind
    if isinstance(kind, kinds.AdditionalProperties):
        return _("Unknown field: %(name)s.", name=", ".join(kind.unexpected))
    if isinstance(kind, kinds.Required):
        return _("This field is required.")
    if isinstance(kind, kinds.Type):
        return _("This field has the wrong type.")
    if isinstance(kind, (kinds.MaxLength, kinds.MaxItems, kinds.MaxProperties)):
        return _("This field is too long.")
    if isinstance(kind, (kinds.MinLength, kinds.MinItems, kinds.MinProperties)):
        return _("This field is too short.")
    if isinstance(kind, (kinds.Minimum, kinds.Maximum, kinds.ExclusiveMinimum, kinds.ExclusiveMaximum)):
        return _("This number is out of range.")
    if isinstance(kind, (kinds.Enum, kinds.Constant)):
        return _("This value is not one of the choices.")
    return _("This value is not in the expected format.")


# Lists whose entries the domain's own parser checks and reports one by one with their index (the items of a
# new request: a URL's scheme, a hash's form); the schema's findings in them are left to that parser.
PARSED_LISTS = {"items"}


class EntriesRefused(ValidationError):
    """Problems in the entries of a list: answered with `items`: [{"index", "message"}]."""

    def __init__(self, field: str, entries: list[tuple[int, str]]):
        super().__init__(field, _("Nothing was saved: correct the entries listed."))
        self.entries = entries


def check(schema: dict, instance) -> None:
    """Refuse `instance` (422): the first problem the schema finds in it, or every entry of a list at fault."""
    errors = list(validator(schema).iter_errors(instance))
    if not errors:
        return
    paths = [list(error.instance_path) for error in errors]
    in_list = all(len(path) >= 2 and isinstance(path[1], int) for path in paths)
    if in_list and len({path[0] for path in paths}) == 1:
        if paths[0][0] in PARSED_LISTS:
            return
        entries = {}
        for path, error in zip(paths, errors):
            entries.setdefault(path[1], _message(error))
        raise EntriesRefused(str(paths[0][0]), sorted(entries.items())[:1000])
    raise ValidationError(_path(errors[0]), _message(errors[0]))


def _read(instance, schema: dict, field: str | None):
    """Pass what the schema accepted through the input reader (NFC, no control characters, zones, range)."""
    if isinstance(instance, str):
        if schema.get("format") == "date-time":
            reader.moment(instance, field=field)
            return instance
        return reader.text(instance, field=field, long=True)
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        return {key: _read(value, properties.get(key, {}), f"{field}.{key}" if field else key)
                for key, value in instance.items()}
    if isinstance(instance, list):
        items = schema.get("items", {})
        return [_read(value, items, f"{field}.{index}" if field else str(index)) for index, value in enumerate(instance)]
    return instance


class BadBody(Exception):
    """The body is not a JSON object (answered 400)."""


def validate_body(schema: dict) -> dict:
    if not request.is_json:
        raise BadBody()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadBody()
    check(schema, data)
    return _read(data, schema, None)


def _query_value(raw: str, schema: dict, name: str):
    if len(raw) > MAX_QUERY_VALUE:
        raise ValidationError(name, _("This field is too long."))
    kind = schema.get("type")
    if kind == "integer":
        return reader.integer(raw, field=name, low=schema.get("minimum", 0),
                              high=schema.get("maximum", reader.MAX_INT))
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValidationError(name, _("Give true or false."))
        return raw == "true"
    return reader.text(raw, field=name)


def validate_query(parameters: list[dict]) -> dict:
    """Every query parameter is one the operation declares, given once, and valid against its schema."""
    declared = {p["name"]: p["schema"] for p in parameters if p.get("in") == "query"}
    values = {}
    for name in request.args:
        if name not in declared:
            raise ValidationError(name, _("Unknown field: %(name)s.", name=reader.text(name[:100], long=True)
                                          if name.isprintable() else "?"))
        given = request.args.getlist(name)
        if len(given) != 1:
            raise ValidationError(name, _("Give this parameter once."))
        values[name] = _query_value(given[0], declared[name], name)
    object_schema = {"type": "object", "additionalProperties": False, "properties": declared}
    check(object_schema, values)
    _read(values, object_schema, None)
    return values

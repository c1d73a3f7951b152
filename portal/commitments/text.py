"""The text of a commitment template: stored by the secretariat, rendered in a sandbox that knows only the
fixed placeholders below.

The environment is Jinja's `ImmutableSandboxedEnvironment` with no globals, no filters beyond the safe
built-ins, `StrictUndefined` and a context of strings only: a template cannot reach configuration, the
secret key, models, the database or the network, because none of them is in reach and the sandbox refuses
attribute walks (`''.__class__`, `cycler.__init__.__globals__`). A template naming anything but a
placeholder is refused when it is stored, and again when it is rendered.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from portal.core.exceptions import ValidationError

# The only names a template may use, each a string the commitment supplies.
PLACEHOLDERS: tuple[str, ...] = (
    "platform_name_ko", "platform_name_en", "agency_name_ko", "agency_name_en",
    "contact_name", "contact_email", "effective_from", "valid_until", "reference",
)
MAX_BODY = 20_000
# An allow-list of syntax: text, placeholders, string filters, constants, and if/else on placeholders. No
# attribute or item access, calls, imports, includes, macros, blocks or assignments.
ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.Filter,
                 nodes.If, nodes.CondExpr, nodes.Not, nodes.And, nodes.Or, nodes.Compare, nodes.Operand,
                 nodes.Concat)

_env = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined, trim_blocks=True,
                                     lstrip_blocks=True)
_env.globals.clear()  # no range, cycler, joiner, namespace, lipsum, dict
# Filters and tests kept: only those that transform strings.
_env.filters = {name: f for name, f in _env.filters.items() if name in {
    "upper", "lower", "title", "capitalize", "trim", "default", "d", "e", "escape", "replace", "string"}}


def check(field: str, body: str) -> None:
    """Refuse a template body that does not parse or names anything but a placeholder."""
    if len(body) > MAX_BODY:
        raise ValidationError(field, _l("The text is too long."))
    try:
        tree = _env.parse(body)
    except TemplateError:
        raise ValidationError(field, _l("The text has a placeholder that is not closed or not valid."))
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, ALLOWED_NODES):
            raise ValidationError(field, _l("Only placeholders (and if/else on them) may be used in the text."))
        if isinstance(node, nodes.Name) and (node.ctx != "load" or node.name not in PLACEHOLDERS):
            raise ValidationError(field, _l("Unknown placeholder: %(name)s. Use only: %(allowed)s.",
                                            name=node.name, allowed=", ".join(PLACEHOLDERS)))
        if isinstance(node, nodes.Filter) and node.name not in _env.filters:
            raise ValidationError(field, _l("Unknown filter: %(name)s.", name=node.name))


def render(field: str, body: str, values: dict[str, str]) -> str:
    """The body with its placeholders filled in from `values` (strings only)."""
    check(field, body)
    context = {name: str(values.get(name, "")) for name in PLACEHOLDERS}
    try:
        return _env.from_string(body).render(context)
    except TemplateError:  # SecurityError and UndefinedError are TemplateErrors
        raise ValidationError(field, _l("The text tries to use something a template may not use."))

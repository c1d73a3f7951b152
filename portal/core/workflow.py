"""Workflows: a domain's states and transitions in one table, and one locked way to move along them.

A domain declares a `Workflow`: its model, its transitions (action, from-states, target, permission,
refusal) and how it records a step in its own history. `transition(obj, action, by)` then

1. checks that `by` holds the transition's permission on `obj` (`by=None`: the system, e.g. a periodic job);
2. locks the object's row and re-reads it under the lock: `SELECT ... FOR UPDATE OF <table>` on PostgreSQL;
   on SQLite every writing unit of work began with `BEGIN IMMEDIATE` and already holds the writer's lock;
3. refuses with `Conflict` (the transition's translated refusal) when the action no longer applies, so of
   several simultaneous callers exactly one moves the object and the others get a clean 409;
4. runs the domain's `prepare` step under the lock (allocate a number, compute the target, check a rule);
5. sets the state, records the domain's history row and the audit row, and sends `transitioned`.

A transition whose target is `None` leaves the state as it is (an extension asked, an overdue mark): it
still serialises on the row and records its step.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from blinker import Namespace
from sqlalchemy import select

from portal.core import audit, clock, policy
from portal.core.exceptions import Conflict
from portal.extensions import db

_signals = Namespace()
# Sent after every transition: sender is the workflow's name; kwargs obj, action, by, source, target, details.
transitioned = _signals.signal("workflow.transitioned")
# Every workflow declared, by name: their actions are audit codes (`<name>.<action>`) that need names too.
DECLARED: dict[str, "Workflow"] = {}


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change (or `prepare` decides it)
    permission: str | None  # None: only the system (by=None) makes this step
    refusal: object  # a lazy translated message, the Conflict's text


@dataclass
class Workflow:
    """The table of one domain. `history(obj, by, action, source, target, reason, internal, at)` writes the
    domain's own event row; `audit_organisation(obj, by)` names the organisation of system steps."""

    name: str
    model: type
    transitions: Iterable[Transition]
    history: Callable[..., None]
    state: str = "status"
    audit_organisation: Callable[[object, object], int | None] = lambda obj, by: None
    table: dict[str, Transition] = field(init=False)

    def __post_init__(self):
        self.table = {t.action: t for t in self.transitions}
        DECLARED[self.name] = self

    def allowed(self, obj) -> set[str]:
        state = getattr(obj, self.state)
        return {action for action, t in self.table.items() if state in t.sources}

    def applies(self, obj, action: str) -> bool:
        return getattr(obj, self.state) in self.table[action].sources


def lock(obj):
    """Lock `obj`'s row until the unit of work ends, and reload its columns as they are under the lock.

    Pending changes are flushed first (autoflush), so nothing of this unit of work is lost by the reload.
    """
    model = type(obj)
    statement = select(model).where(model.id == obj.id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(of=model)
    locked = db.session.scalars(statement).one()
    assert locked is obj
    return obj


def transition(workflow: Workflow, obj, action: str, by, *, target: str | Callable | None = None,
               prepare: Callable[[object], dict | None] | None = None, reason: str | None = None,
               internal: bool = False, at=None, **details) -> str | None:
    """Move `obj` by `action` under its row lock, or refuse with `Conflict`; returns the new state.

    `prepare(obj)` runs under the lock after the state check and before the state changes; it may refuse
    (raise) and may return details for the audit row. `target` overrides the table's (a callable gets obj).
    `at` is the time recorded (default: now).
    """
    step = workflow.table[action]
    if by is not None and step.permission is not None:
        policy.require(by, step.permission, obj)
    elif by is not None or step.permission is not None:
        raise policy.PermissionDenied(action)
    lock(obj)
    source = getattr(obj, workflow.state)
    if source not in step.sources:
        raise Conflict(step.refusal)
    if prepare is not None:
        details.update(prepare(obj) or {})
    if callable(target):
        target = target(obj)
    target = target or step.target
    now = at or clock.now()
    moved = target is not None
    if moved:
        setattr(obj, workflow.state, target)
        if hasattr(obj, "updated_at"):
            obj.updated_at = now
    workflow.history(obj, by, action, source if moved else None, target, reason=reason, internal=internal,
                     at=now)
    organisation_id = by.organisation_id if by is not None else workflow.audit_organisation(obj, by)
    audit_details = {**({"from": source, "to": target} if moved else {}),
                     **({"reason": reason} if reason else {}), **details}
    audit.record(f"{workflow.name}.{action}", obj, actor=by, organisation_id=organisation_id, details=audit_details)
    transitioned.send(workflow.name, obj=obj, action=action, by=by, source=source, target=target,
                      details=audit_details)
    return target or source

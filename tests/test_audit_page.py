"""The audit log page as people read it: every action named in both languages, details as text, pages."""
import ast
import re
from pathlib import Path

import pytest

from portal.admin.labels import ACTION_LABELS, DETAIL_LABELS, action_name, readable_details
from portal.admin.services import AUDIT_PER_PAGE
from portal.core import audit, workflow
from portal.core.audit import REFUSAL_PREFIX, REFUSALS_CAPPED
from portal.extensions import db

PORTAL = Path(__file__).resolve().parent.parent / "portal"
# The two calls whose code is computed: a workflow's step (`<workflow>.<action>`) and a refusal
# (`refused.<kind>`, capped); their codes are listed from the workflows and the refusal calls below.
COMPUTED = {("core/workflow.py", "JoinedStr"), ("core/audit.py", "Name")}


def _strings(node) -> set[str] | None:
    """The strings an expression can take, when it is made of literals (a literal, `a if c else b`, a
    literal + one of those); None when it is computed otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body), _strings(node.orelse)
        return body | orelse if body is not None and orelse is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _strings(node.left), _strings(node.right)
        return {a + b for a in left for b in right} if left is not None and right is not None else None
    return None


def _calls(name: str):
    """(file, first argument) of every call of `audit.<name>(...)` (or `<name>(...)` inside core/audit.py)."""
    for path in sorted(PORTAL.rglob("*.py")):
        relative = path.relative_to(PORTAL).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == name and isinstance(func.value, ast.Name)
                    and func.value.id == "audit") or (
                    relative == "core/audit.py" and isinstance(func, ast.Name) and func.id == name):
                yield relative, node.args[0]


def _written_codes() -> set[str]:
    codes, unresolved = set(), []
    for relative, argument in _calls("record"):
        strings = _strings(argument)
        if strings is not None:
            codes |= strings
        elif (relative, type(argument).__name__) not in COMPUTED:
            unresolved.append(f"{relative}:{argument.lineno}")
    assert not unresolved, f"audit codes computed where the test cannot list them: {unresolved}"
    for _relative, argument in _calls("record_refusal"):
        codes |= {REFUSAL_PREFIX + kind for kind in _strings(argument)}
    codes.add(REFUSALS_CAPPED)
    for declared in workflow.DECLARED.values():
        codes |= {f"{declared.name}.{action}" for action in declared.table}
    return codes


def test_every_action_code_the_portal_writes_has_a_name(app):
    codes = _written_codes()
    assert {"login.success", "request.issue", "refused.csrf", "consultation.counter_declined",
            "minutes.publish", "commitment.countersign"} <= codes  # the scan finds each kind of call
    assert sorted(codes - set(ACTION_LABELS)) == []


@pytest.mark.parametrize("language, name, other", [
    ("en", "Signed in", "로그인 성공"),
    ("ko", "로그인 성공", "Signed in"),
])
def test_audit_log_names_actions_in_the_viewers_language(auth, client, language, name, other):
    auth.as_role("system_admin")  # signing in writes a login.success row
    body = client.get(f"/admin/audit?action=login.success&lang={language}").data.decode()
    assert name in body and other not in body
    assert '<code class="portal-action-code">login.success</code>' in body  # the code the filter takes


@pytest.mark.parametrize("language, reason, filters", [("en", "Reason:", "Filters:"), ("ko", "사유:", "필터:")])
def test_details_read_as_named_values_escaped_without_json(app, auth, client, language, reason, filters):
    with app.test_request_context():
        audit.record("test.details", details={"reason": "<b>late</b>", "filters": {"action": "login"},
                                              "known": True, "items": [3, 4]})
        db.session.commit()
    auth.as_role("system_admin")
    body = client.get(f"/admin/audit?action=test.details&lang={language}").data.decode()
    [cell] = re.findall(r"<td>(<span class=\"portal-detail\">.*?)</td>", body)
    assert reason in cell and filters in cell and "&lt;b&gt;late&lt;/b&gt;" in cell and "<b>" not in cell
    assert "{" not in cell and '"' not in cell.replace('class="portal-detail"', "").replace(
        'class="portal-detail-name"', "")
    assert "3, 4" in cell


def test_readable_details_name_keys_join_lists_and_inline_nested_objects(app):
    with app.test_request_context("/?lang=en"):
        assert readable_details({"from": "draft", "to": "issued", "merged": 0, "unknown_key": None}) == [
            ("From", "draft"), ("To", "issued"), ("Number merged", "0"), ("unknown_key", "—")]
        assert readable_details({"filters": {"action": "login", "organisation_id": 3}}) == [
            ("Filters", "Action: login; Organisation: 3")]
        assert readable_details({"known": False}) == [("Known address", "No")]
        assert readable_details(None) == []


def test_an_action_without_a_name_shows_its_code(app):
    with app.test_request_context("/?lang=ko"):
        assert action_name("older.version_code") == "older.version_code"
        assert action_name("login.failure") != "login.failure"
        assert set(DETAIL_LABELS) >= {"reason", "from", "to", "filters"}


def _seqs(html: str) -> list[int]:
    return [int(seq) for seq in re.findall(r'<th scope="row">(\d+)</th>', html)]


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_audit_log_pages_older_and_newer_newest_first(app, auth, client):
    with app.test_request_context():
        for _ in range(AUDIT_PER_PAGE * 2 + 5):
            audit.record("test.page")
        db.session.commit()
    auth.as_role("system_admin")
    first = client.get("/admin/audit?action=test.page").data.decode()
    assert len(_seqs(first)) == AUDIT_PER_PAGE == 50 and _seqs(first) == sorted(_seqs(first), reverse=True)
    assert _link(first, "prev") is None and "Newest events" not in first
    second = client.get(_link(first, "next")).data.decode()
    third = client.get(_link(second, "next")).data.decode()
    assert max(_seqs(second)) < min(_seqs(first)) and len(_seqs(third)) == 5 and _link(third, "next") is None
    assert "action=test.page" in _link(third, "prev")  # the filters stay on every link
    back = client.get(_link(third, "prev")).data.decode()
    assert _seqs(back) == _seqs(second) and "Newest events" in back
    again = client.get(_link(back, "prev")).data.decode()
    assert _seqs(again) == _seqs(first) and _link(again, "prev") is None


def test_every_kind_of_object_the_portal_records_has_a_name(app):
    from portal.admin.labels import OBJECT_LABELS, object_name

    # What core/audit.record names an object after: its model's audit_type, else its class name.
    recorded = {getattr(mapper.class_, "audit_type", mapper.class_.__name__.lower()) for mapper in db.Model.registry.mappers}
    bookkeeping = {"auditevent", "audithead", "idempotentcreation", "outboxattachment", "remindersent",
                   "requestcounter"}  # never the object of an event
    assert sorted(recorded - bookkeeping - set(OBJECT_LABELS)) == []
    with app.test_request_context("/?lang=ko"):
        assert object_name("request") == "요청" and object_name("older_kind") == "older_kind"
        assert object_name(None) == ""


def test_audit_log_names_the_object_in_the_viewers_language(app, auth, client):
    with app.test_request_context():
        audit.record("test.object", object_type="request", object_id=42)
        db.session.commit()
    auth.as_role("system_admin")
    assert "<td>Request #42</td>" in client.get("/admin/audit?action=test.object&lang=en").data.decode()
    assert "<td>요청 #42</td>" in client.get("/admin/audit?action=test.object&lang=ko").data.decode()

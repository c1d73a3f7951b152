"""PDF templates render in a sandbox: they see their plain-data context and the documented helpers, and
nothing of the application -- not its configuration, the request, the session or a model."""
import pytest
from jinja2 import ChoiceLoader, DictLoader
from jinja2.exceptions import SecurityError, TemplateNotFound, UndefinedError
from sqlalchemy import func, select

from portal.accounts.models import Organisation
from portal.core import documents
from portal.extensions import db
from portal.requests import labels
from tests.documents_support import issue_test_notice, pdf_text

pytestmark = pytest.mark.real_documents  # the real WeasyPrint and pyHanko (tests/conftest.py)

SECRET = "test-secret-key"  # tests/conftest.py

ATTEMPTS = [
    "{{ config.SECRET_KEY }}",
    "{{ config['SECRET_KEY'] }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ request.environ }}",
    "{{ session }}",
    "{{ g }}",
    "{{ url_for('verification.index') }}",
    "{{ get_flashed_messages() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ kst.__globals__['current_app'].config.SECRET_KEY }}",
    "{{ gettext.__globals__ }}",
    "{{ ko.__code__ }}",
    "{{ dict.__base__.__subclasses__() }}",
    "{{ range.__self__ }}",
    "{{ document.__class__.__init__.__globals__ }}",
    "{{ document.replaces.__class__ }}",
    "{{ body.__class__.__base__ }}",
    "{{ '{0.__class__.__init__.__globals__}'.format(document) }}",
    "{{ labels.TYPE_LABELS.removal._func.__globals__ }}",
    "{{ labels.TYPE_LABELS.removal.__dict__ }}",
    "{% set x = body.__class__ %}{{ x.__mro__ }}",
    "{{ items.append(1) }}{{ items }}",
]


@pytest.fixture
def evil(app):
    """Put templates into pdf/ for the test (the sandbox loads nothing else)."""
    def load(templates: dict[str, str]):
        app.jinja_env.loader = ChoiceLoader([DictLoader(templates), app.jinja_loader])
    return load


def _render(app, source: str, context=None) -> str:
    with app.test_request_context("/?lang=en"):
        try:
            return documents.render_html("evil", {"body": "text", "items": [], "labels": {
                "TYPE_LABELS": dict(labels.TYPE_LABELS)}, **(context or {})}, facts=_Facts(), author="a",
                subject="s")
        except (SecurityError, UndefinedError, TypeError) as refused:
            return f"refused: {refused}"


class _Facts:
    """Stands for DocumentFacts in these templates (the real one is a frozen dataclass of plain values)."""
    replaces = None
    reference = "X"


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_a_template_cannot_reach_the_secret_key_or_the_application(app, evil, attempt):
    evil({"pdf/evil.html": attempt})
    output = _render(app, attempt)
    assert SECRET not in output
    for leak in ("<module", "<function", "<class", "Flask", "SecureCookie", "werkzeug", "<built-in"):
        assert leak not in output, output


@pytest.mark.parametrize("name", ["requests/detail.html", "base.html", "pdf/../base.html", "emails/request_issued.txt"])
def test_a_template_includes_only_pdf_templates(app, evil, name):
    evil({"pdf/evil.html": f'{{% include "{name}" %}}'})
    with pytest.raises(TemplateNotFound):
        _render(app, "")


def test_the_documented_helpers_work(app, evil):
    from datetime import datetime, timezone

    evil({"pdf/evil.html": '{{ kst(when, "en") }}|{{ when|kst("ko") }}|{{ en(labels.TYPE_LABELS.removal) }}|'
                           '{{ ko(labels.TYPE_LABELS.removal) }}|{{ _("Removal") }}|{{ when|in_zone("Europe/Dublin", "en") }}'})
    output = _render(app, "", {"when": datetime(2026, 11, 25, 7, 51, tzinfo=timezone.utc)})
    assert output.split("|") == ["25 November 2026, 16:51 KST", "2026년 11월 25일 16:51 KST", "Removal", "삭제",
                                 "삭제", "25 November 2026, 07:51 Europe/Dublin"]


def test_documents_group_counts_by_thousands(app, evil):
    evil({"pdf/evil.html": '{{ number(count) }}|{{ count|number("en") }}|{{ items|length|number }}'})
    output = _render(app, "", {"count": 10000, "items": list(range(1234))})
    assert output.split("|") == ["10,000", "10,000", "1,234"]


@pytest.mark.parametrize("unsafe", ["organisation", "module", "function", "nested"])
def test_a_context_holding_an_orm_object_or_code_is_refused_before_rendering(app, make, monkeypatch, unsafe):
    agency = make.organisation("agency")

    def must_not_render(*_args, **_kwargs):
        raise AssertionError("rendered a context that is not plain data")

    monkeypatch.setattr(documents.render, "write_pdf", must_not_render)
    with app.test_request_context():
        organisation = db.session.get(Organisation, agency)
        value = {"organisation": organisation, "module": labels, "function": lambda: None,
                 "nested": [{"rows": ({"issuer": organisation},)}]}[unsafe]
        with pytest.raises(documents.UnsafeContext, match="not plain data"):
            documents.issue_document(
                "test_notice", "test_notice", {"body_ko": "x", "body_en": "x", "items": [], "value": value},
                reference="KCSC-2026-000001", issuer=agency, recipient_organisation_id=None, title="t")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(documents.Document)) == 0


def test_what_users_type_is_printed_not_evaluated(app, make):
    agency = make.organisation("agency")
    issued = issue_test_notice(app, issuer=agency, recipient=None,
                               body_ko="{{ config.SECRET_KEY }}", body_en="{% include 'base.html' %}")
    text = pdf_text(issued.path)
    assert "{{ config.SECRET_KEY }}" in text and SECRET not in text

"""Numbers shown to users are grouped by thousands in the viewer's language: "100,000행", not "100000행"."""
import pytest
from babel.numbers import format_decimal
from flask import render_template_string
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal import i18n
from portal.i18n import Number, ngettext, number
from portal.requests import urls


@pytest.mark.parametrize("language", ["ko", "en"])
def test_number_is_grouped_by_thousands_in_the_viewers_language(app, language):
    with app.test_request_context(f"/?lang={language}"):
        assert number(100000) == "100,000"
        assert number(999) == "999"
        assert str(Number(1234567)) == "1,234,567"


def test_a_lazy_message_groups_its_number_in_the_language_it_is_printed_in(app):
    message = _l("Keep this under %(max)s characters.", max=Number(10000))
    with app.test_request_context("/?lang=ko"):
        assert "10,000" in str(message) and "자" in str(message)
    with app.test_request_context("/?lang=en"):
        assert str(message) == "Keep this under 10,000 characters."


@pytest.mark.parametrize("language", ["ko", "en"])
def test_template_ngettext_groups_num(app, language):
    with app.test_request_context(f"/?lang={language}"):
        text = render_template_string('{{ ngettext("%(num)s item", "%(num)s items", 12345) }}')
    assert "12,345" in text and "12345" not in text


def test_python_ngettext_groups_num_and_keeps_the_plural(app):
    with app.test_request_context("/?lang=en"):
        assert ngettext("%(num)s item added.", "%(num)s items added.", 10000) == "10,000 items added."
        assert ngettext("%(num)s item added.", "%(num)s items added.", 1) == "1 item added."


def test_outside_a_request_a_number_prints_its_bare_digits():
    assert str(Number(100000)) == "100000"


def test_too_long_a_paste_names_its_limit_grouped(app):
    with app.test_request_context("/?lang=ko"), force_locale("ko"):
        result = urls.parse_lines("\n".join(f"https://example.com/{n}" for n in range(urls.MAX_LINES + 1)))
        assert any("50,000" in error.message for error in result.errors)


@pytest.mark.parametrize("language, expected", [("ko", "최대 100,000행"), ("en", "at most 100,000 rows")])
def test_audit_export_hint_groups_the_row_limit(auth, client, language, expected):
    auth.as_role("system_admin")
    body = client.get(f"/admin/audit?lang={language}").data.decode()
    assert expected in body


@pytest.mark.parametrize("language", ["ko", "en"])
def test_template_gettext_with_and_without_variables_keeps_jinjas_rules(app, language):
    """The page's `_` formats only when there is something to format; the result is what Jinja's would be:
    translated, variables escaped, "%%" read as "%" when formatted."""
    with app.test_request_context(f"/?lang={language}"):
        plain = render_template_string('{{ _("Log out") }}')
        filled = render_template_string('{{ _("Requests with the reference %(reference)s.", reference="<b>") }}')
        percent = render_template_string('{{ _("%(n)s%% done", n=5) }}')
        lone = render_template_string("{% autoescape false %}{{ _('a & b') }}{% endautoescape %}")
    assert plain == {"ko": "로그아웃", "en": "Log out"}[language]
    assert "&lt;b&gt;" in filled and "<b>" not in filled
    assert percent == "5% done"
    assert lone == "a & b"


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("value", [999, 1000, -1000, 1234567, -98765432, 10**18, -(10**18) - 7])
def test_grouping_is_babels_for_every_number(app, language, value):
    # Korean and English take Python's own "{:,}", which must write exactly what CLDR's pattern writes.
    with app.test_request_context(f"/?lang={language}"):
        app.preprocess_request()
        assert str(Number(value)) == format_decimal(value, locale=language)


def test_a_language_grouped_otherwise_is_left_to_babel(app, monkeypatch):
    monkeypatch.setattr(i18n, "current_language", lambda: "de")  # "1.234.567"
    with app.test_request_context("/"):
        assert str(Number(1234567)) == "1.234.567"

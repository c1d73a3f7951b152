"""Checks that hold on every page each role can reach, in both languages (tests/pages.py walks them)."""
from __future__ import annotations

import re
from collections import Counter
import shutil
from html.parser import HTMLParser

import pytest

from portal import create_app
from portal.core.documents import render, sign
from portal.extensions import db
from tests.conftest import PG_URL
from tests.documents_support import stand_in_pdf, stand_in_signature
from tests.pages import walk


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.label_targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id") is not None:
            self.ids[attributes["id"]] += 1
        if tag == "label" and attributes.get("for") is not None:
            self.label_targets.append(attributes["for"])

    handle_startendtag = handle_starttag


def _parsed(html: str) -> _Ids:
    parser = _Ids()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def pages(database_template, tmp_path_factory):
    """One walk for the module: building its world and walking it takes a while."""
    from tests.conftest import EnglishClient, _config, _truncate_all
    from tests.factories import Factories

    instance = tmp_path_factory.mktemp("pages-instance")
    if PG_URL:
        application = create_app(_config(PG_URL, instance))
        with application.app_context():
            _truncate_all()
    else:
        path = instance / "portal.sqlite3"
        shutil.copyfile(database_template, path)
        application = create_app(_config(f"sqlite:///{path}", instance))
    application.test_client_class = EnglishClient
    # The walk is about pages, not documents: the fast stand-in renderer, as the `app` fixture has.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "write_pdf", stand_in_pdf)
        patch.setattr(sign, "sign_pdf", stand_in_signature)
        walked = walk(application, Factories(application))
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    assert len(walked) > 50
    return walked


def test_the_walk_reaches_the_important_pages(pages):
    paths = {(page.role, page.path.split("?")[0]) for page in pages}
    for role in ("regulator_officer", "platform_agent"):
        assert sum(1 for r, p in paths if r == role and p.startswith("/requests/") and p[10:].isdigit()) >= 5
    assert ("platform_admin", "/webhooks/") in paths
    assert any(r == "platform_admin" and p.startswith("/webhooks/") and p[10:].isdigit() for r, p in paths)
    assert any(r is None and p.startswith("/invitation/") for r, p in paths)
    assert all(page.status < 500 for page in pages), [str(p) for p in pages if p.status >= 500]


def test_no_page_has_a_duplicate_id(pages):
    duplicates = []
    for page in pages:
        ids = _parsed(page.html).ids
        duplicates += [(str(page), name) for name, count in ids.items() if count > 1]
    assert duplicates == []


def test_every_label_points_to_an_element_of_its_page(pages):
    dangling = []
    for page in pages:
        parsed = _parsed(page.html)
        dangling += [(str(page), target) for target in parsed.label_targets if target not in parsed.ids]
    assert dangling == []


class _Text(HTMLParser):
    """What a reader sees of a page in its language: its text and the attributes read out (placeholder,
    title, labels), leaving out what is marked as in another language (an e-mail in the outbox, the
    switcher's "English")."""
    SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, language: str):
        super().__init__(convert_charrefs=True)
        self.language = language
        self.chunks: list[str] = []
        self._hidden: list[str] = []  # open elements whose content is not the page's language's text

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        other_language = tag != "html" and attributes.get("lang") not in (None, self.language)
        if tag not in self.VOID and (self._hidden or other_language or tag in ("script", "style")):
            self._hidden.append(tag)
        if self._hidden or other_language:
            return
        for name, value in attrs:
            if name in self.SHOWN_ATTRIBUTES and value:
                self.chunks.append(value)
        if tag == "input" and attributes.get("type") == "submit" and attributes.get("value"):
            self.chunks.append(attributes["value"])

    def handle_startendtag(self, tag, attrs):
        if tag not in self.VOID:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)
        else:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self._hidden and tag in self._hidden:
            while self._hidden.pop() != tag:
                pass

    def handle_data(self, data):
        if not self._hidden:
            self.chunks.append(data)


def _visible_text(html: str, language: str) -> str:
    parser = _Text(language)
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.chunks).split())


def _english_sentences() -> list[str]:
    """The catalogue's English sentences that have a Korean translation: on a Korean page, each one is a
    string rendered outside the catalogues. A sentence is three words or more; of a message with
    placeholders, its longest literal part."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    translations = Path(__file__).resolve().parent.parent / "portal" / "translations"
    with open(translations / "en" / "LC_MESSAGES" / "messages.po", "rb") as f:
        english = read_po(f, locale="en")
    with open(translations / "ko" / "LC_MESSAGES" / "messages.po", "rb") as f:
        korean = read_po(f, locale="ko")
    sentences = set()
    for message in english:
        if not message.id or isinstance(message.id, tuple):
            continue
        translated = korean.get(message.id)
        if translated is None or not translated.string or translated.string == message.id:
            continue
        text = " ".join(message.id.split())
        parts = [part.strip(" :,") for part in re.split(r"%\(\w+\)[sd]|<[^>]+>|\{[^}]*\}", text)]
        longest = max(parts, key=len)
        if len(longest.split()) >= 3:
            sentences.add(longest)
    return sorted(sentences)


def test_korean_pages_show_no_english_sentence_of_the_catalogue(pages):
    sentences = _english_sentences()
    assert "Please correct the fields marked below." in sentences
    found = []
    for page in pages:
        if page.language != "ko":
            continue
        text = _visible_text(page.html, page.language)
        found += [(str(page), sentence) for sentence in sentences if sentence in text]
    assert found == []


def test_the_korean_text_check_sees_strings_and_skips_other_languages():
    html = ('<html lang="ko"><body><p>Please correct the fields marked below.</p>'
            '<pre lang="en">Reset your password</pre><input type="submit" value="Send it"><br></body></html>')
    assert _visible_text(html, "ko") == "Please correct the fields marked below. Send it"


def test_every_template_with_strings_is_extracted_into_the_catalogue():
    """pybabel skips folders starting with "_" unless told otherwise: templates/_macros was left out."""
    from pathlib import Path

    portal = Path(__file__).resolve().parent.parent / "portal"
    pot = (portal / "translations" / "messages.pot").read_text(encoding="utf-8")
    templates = [path for path in (portal / "templates").rglob("*")
                 if path.suffix in (".html", ".txt") and re.search(r"\b_\(|gettext\(", path.read_text("utf-8"))]
    assert templates
    # A message found in several files lists them all on its "#:" line, in the order of the files.
    located = set(re.findall(r"(\S+):\d+", "\n".join(line for line in pot.splitlines() if line.startswith("#: "))))
    missing = [str(p.relative_to(portal.parent)) for p in templates
               if p.relative_to(portal.parent).as_posix() not in located]
    assert missing == []


def test_the_internal_note_box_is_marked_as_never_sent_to_the_platform(pages, app):
    from flask_babel import force_locale, gettext

    with app.test_request_context():
        legends = {}
        for language in ("ko", "en"):
            with force_locale(language):
                legends[language] = gettext("Internal note — not sent to the platform")
    assert legends["ko"] != legends["en"]
    detail = [page for page in pages if page.role == "regulator_officer" and page.status == 200
              and re.fullmatch(r"/requests/\d+", page.path.split("?")[0]) and 'id="note-body"' in page.html]
    assert detail
    for page in detail:
        assert '<form method="post" action="' in page.html and 'class="portal-internal-note"' in page.html
        assert f"<legend>{legends[page.language]}</legend>" in page.html
        assert '<label for="note-body">' in page.html
    assert any('<label for="message-body">' in page.html for page in detail)  # both boxes on one page

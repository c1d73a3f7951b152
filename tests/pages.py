"""A page walker for tests: every page each role can reach, in each language, with content on it.

`walk(app, make)` builds a small world through the real services (a request in each state, with messages,
internal notes, an extension asked, attachments of none; a webhook endpoint with a delivery; an open
invitation; users of every role), then logs in as each role (and as nobody) and walks: it starts from the
app's GET routes that take no arguments and follows every link on every page it gets (so detail pages of
the objects made are reached as a user would reach them), asking each page in the given language with
?lang=. Forms that answer a bad submission with errors are also posted once, empty, so their error
summaries are walked too. It returns the HTML pages seen; tests check what must hold on every page.
"""
from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from portal.accounts import services as accounts
from portal.accounts.models import Organisation, User
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.requests import services as requests
from portal.requests.models import Request
from portal.webhooks import services as webhooks
from portal.webhooks.models import EVENTS
from tests.factories import Auth, Factories, Parties

LANGUAGES = ("ko", "en")
ROLES = (None, "regulator_officer", "regulator_supervisor", "platform_agent", "platform_admin", "secretariat",
         "system_admin")
# Forms posted empty to see their error summaries (each is refused by the roles it is not for).
FORMS = ("/password/forgot", "/verify", "/account/password", "/requests/new", "/admin/users/invite",
         "/admin/organisations/new", "/admin/contacts/new", "/webhooks/")
# Not pages: the API (JSON), files, and the health check. Logging out is a POST and is never followed.
SKIPPED_PREFIXES = ("/api/", "/static/", "/healthz")
# Variants of one page (other ids, filters, pages of a list) walked at most, to bound the walk.
VARIANTS_PER_PAGE = 6


@dataclass
class Page:
    role: str | None
    language: str
    path: str  # as asked, with ?lang=
    status: int
    html: str

    def __str__(self) -> str:
        return f"{self.role or 'anonymous'} {self.path} ({self.status})"


@dataclass
class World:
    parties: Parties
    users: dict[str, object]  # role -> Made
    tokens: list[str]  # paths of single-use links (invitation, reset) for the anonymous walk


def build_world(app, make: Factories) -> World:
    """Data so that the important pages have content; everything through the real services."""
    parties = make.parties()
    request_ids = {status: make.request(parties, status) for status in
                   ("draft", "awaiting_approval", "issued", "acknowledged", "responded_partly", "closed",
                    "withdrawn")}
    secretariat_org = make.organisation("secretariat")
    users = {"regulator_officer": parties.officer, "regulator_supervisor": parties.supervisor,
             "platform_agent": parties.agent, "platform_admin": parties.platform_admin,
             "secretariat": make.user("secretariat", secretariat_org),
             "system_admin": make.user("system_admin", secretariat_org)}
    make.contact(parties.platform)
    tokens = []
    with app.test_request_context():
        officer, agent = db.session.get(User, parties.officer.id), db.session.get(User, parties.agent.id)
        admin = db.session.get(User, parties.platform_admin.id)
        for status in ("acknowledged", "responded_partly"):
            req = db.session.get(Request, request_ids[status])
            requests.post_message(officer, req, "Please confirm the removal.")
            requests.post_message(agent, req, "We are looking into it.")
            requests.add_note(officer, req, "Call the platform if nothing by Friday.")
        requests.request_extension(agent, db.session.get(Request, request_ids["acknowledged"]), "Many items.")
        endpoint, _ = webhooks.register_endpoint(admin, "https://hooks.example.com/portal", list(EVENTS))
        webhooks.send_test_ping(admin, endpoint)
        system_admin = db.session.get(User, users["system_admin"].id)
        accounts.invite(system_admin, email="invited@example.test", name="Invited Person",
                        organisation=db.session.get(Organisation, parties.platform), role="platform_agent",
                        language="en")
        db.session.commit()
        for body in db.session.scalars(select(OutboxMessage.body_text)):
            tokens += re.findall(r"http://portal\.test(/invitation/[^\s?]+)", body)
        accounts.request_password_reset(users["secretariat"].email)
        db.session.commit()
        for body in db.session.scalars(select(OutboxMessage.body_text)):
            tokens += re.findall(r"http://portal\.test(/password/reset/[^\s?]+)", body)
    return World(parties, users, sorted(set(tokens)))


def _start_paths(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(SKIPPED_PREFIXES):
            paths.append(rule.rule)
    return sorted(paths)


def _with_language(path: str, language: str) -> str:
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return parts.path + "?" + urlencode(query + [("lang", language)])


def _links(html: str) -> list[str]:
    """Paths on the site that a page links to (absolute links to the portal's own address included)."""
    found = []
    for href in re.findall(r'<a\b[^>]*\bhref="([^"]+)"', html):
        href = href.replace("&amp;", "&")
        parts = urlsplit(href)
        if parts.scheme or parts.netloc:
            if parts.netloc != "portal.test":
                continue
        path = parts.path
        if not path.startswith("/") or path.startswith(SKIPPED_PREFIXES):
            continue
        found.append(path + (f"?{parts.query}" if parts.query else ""))
    return found


def _page_key(adapter, path: str) -> str:
    """Which page a path is (its endpoint), to bound how many variants of it are walked."""
    parts = urlsplit(path)
    try:
        endpoint, _ = adapter.match(parts.path, method="GET")
    except HTTPException:
        return parts.path
    return endpoint


def walk_as(app, make: Factories, role: str | None, language: str, world: World) -> list[Page]:
    client = app.test_client()
    if role:
        Auth(client, make).login(world.users[role], client=client)
    adapter = app.url_map.bind("portal.test")
    queue = deque(_start_paths(app) + (world.tokens if role is None else []))
    seen, variants, pages = set(), defaultdict(int), []
    while queue:
        path = _with_language(queue.popleft(), language)
        if path in seen:
            continue
        seen.add(path)
        key = _page_key(adapter, path)
        if variants[key] >= VARIANTS_PER_PAGE:
            continue
        variants[key] += 1
        response = client.get(path)
        if response.status_code in (301, 302, 303, 307, 308):
            queue.extend(_links(f'<a href="{response.location}">'))
        elif response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            pages.append(Page(role, language, path, response.status_code, html))
            queue.extend(_links(html))
        response.close()
    for form in FORMS:
        path = _with_language(form, language)
        response = client.post(path, data={})
        if response.status_code == 200 and response.mimetype == "text/html":
            pages.append(Page(role, language, f"POST {path}", 200, response.get_data(as_text=True)))
        response.close()
    return pages


def representatives(app, pages: list[Page], main_language: str = "ko") -> list[Page]:
    """One page of each endpoint for each role in `main_language`, and one of each endpoint in every other
    language: enough for a check about markup rather than data (accessibility), where the walk's other
    variants (another request in another state) repeat the same structure."""
    adapter = app.url_map.bind("portal.test")
    chosen, seen = [], set()
    for page in pages:
        endpoint = page.path if page.path.startswith("POST ") else _page_key(adapter, page.path)
        key = (endpoint, page.language, page.role if page.language == main_language else None)
        if key not in seen:
            seen.add(key)
            chosen.append(page)
    return chosen


def walk(app, make: Factories, languages=LANGUAGES, roles=ROLES) -> list[Page]:
    """Every page reachable by each role in each language (see the module's docstring)."""
    world = build_world(app, make)
    return [page for role in roles for language in languages
            for page in walk_as(app, make, role, language, world)]

"""Recipients are resolved in one place (portal/accounts/recipients): active people by organisation and
role, and designated contacts."""
from __future__ import annotations

from portal.accounts import recipients
from portal.accounts.models import User
from portal.extensions import db


def test_users_of_an_organisation_are_its_active_people_with_the_roles_asked(app, make):
    platform = make.organisation("platform")
    agent = make.user("platform_agent", platform)
    admin = make.user("platform_admin", platform)
    make.user("platform_agent", platform, active=False)
    make.user("platform_agent")  # another platform's
    with app.app_context():
        assert [u.id for u in recipients.users_of(platform)] == [agent.id, admin.id]
        assert [u.id for u in recipients.users_of(platform, ("platform_admin",))] == [admin.id]
        assert [u.id for u in recipients.users_of(platform, exclude=agent.id)] == [admin.id]
        assert recipients.users_of([]) == []


def test_users_of_several_organisations_come_by_organisation_then_id(app, make):
    first, second = make.organisation("platform"), make.organisation("platform")
    b = make.user("platform_agent", second)
    a = make.user("platform_agent", first)
    with app.app_context():
        assert [u.id for u in recipients.users_of([second, first], ("platform_agent",))] == [a.id, b.id]


def test_designated_contacts_are_the_active_ones_not_already_reached(app, make):
    platform = make.organisation("platform")
    kept = make.contact(platform, email="desk@example.test")
    make.contact(platform, email="legal@example.test")
    make.contact(platform, email="old@example.test", active=False)
    with app.app_context():
        assert [c.id for c in recipients.designated_contacts_of(platform, skip={"legal@example.test"})] == [kept]


def test_active_and_unique_drop_missing_inactive_and_repeated_people(app, make):
    platform = make.organisation("platform")
    agent, gone = make.user("platform_agent", platform), make.user("platform_agent", platform, active=False)
    with app.app_context():
        person, former = db.session.get(User, agent.id), db.session.get(User, gone.id)
        assert recipients.active(person, None, former, person) == [person]
        assert recipients.unique([person, person]) == [person]

"""Administrators keep the legal bases and the deadline policy; drafters choose from what is in use."""
import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.requests import deadlines
from portal.requests.deadlines import Allowance
from portal.requests.models import DeadlinePolicy, LegalBasis


@pytest.mark.parametrize("language", ["ko", "en"])
def test_settings_page_renders(auth, client, language):
    auth.as_role("system_admin")
    assert client.get(f"/requests/settings?lang={language}").status_code == 200


def test_admin_adds_and_retires_a_legal_basis(app, auth, client, make):
    auth.as_role("secretariat")
    client.post("/requests/settings/legal-bases", data={"code": "net-44-7", "name_ko": "정보통신망법 제44조의7",
                                                        "name_en": "Network Act, Art. 44-7"})
    with app.app_context():
        basis = db.session.scalar(select(LegalBasis))
        assert basis.code == "NET-44-7" and basis.active
    client.post(f"/requests/settings/legal-bases/{basis.id}/active", data={"active": "0"})
    auth.logout()
    auth.as_role("regulator_officer")
    page = client.get("/requests/new").get_data(as_text=True)
    assert "Network Act" not in page and "정보통신망법" not in page


def test_admin_sets_the_deadline_policy(app, auth, client):
    auth.as_role("system_admin")
    response = client.post("/requests/settings/deadlines", data={"request_type": "removal", "priority": "urgent",
                                                                 "amount": "2", "unit": "working_days"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(DeadlinePolicy))
        assert (row.hours, row.working_days) == (None, 2)
        assert deadlines.allowance_for("removal", "urgent") == Allowance(working_days=2)


@pytest.mark.parametrize("role", ["regulator_supervisor", "platform_admin"])
def test_others_cannot_change_settings(auth, client, role):
    auth.as_role(role)
    assert client.get("/requests/settings").status_code == 403
    assert client.post("/requests/settings/deadlines", data={}).status_code == 403

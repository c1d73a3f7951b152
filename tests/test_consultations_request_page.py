"""A request's page shows the consultations whose agenda holds it, and gives its agency one action to put it
on a coming consultation with the platform."""
from tests.consultations_support import consultation


def test_agency_puts_its_request_on_a_coming_consultation_from_the_request_page(app, client, make, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    meeting = consultation(make, parties.officer, [parties.platform], status="proposed",
                           title_en="Quarterly consultation")
    auth.login(parties.officer)
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert f"/consultations/agenda/request/{request_id}" in page and "Quarterly consultation" in page
    response = client.post(f"/consultations/agenda/request/{request_id}", data={"consultation_id": meeting.id})
    assert response.status_code == 303
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    # Now on the agenda: listed with a link, and no longer offered.
    assert f"/consultations/{meeting.id}#agenda" in page
    assert f"/consultations/agenda/request/{request_id}" not in page
    auth.logout()
    # The platform sees where its request is discussed, without the agency's form.
    auth.login(parties.agent)
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert "Quarterly consultation" in page and f"/consultations/agenda/request/{request_id}" not in page


def test_no_form_without_a_coming_consultation_with_the_platform(app, client, make, auth):
    parties = make.parties()
    request_id = make.request(parties, "acknowledged")
    other = make.parties()
    consultation(make, parties.officer, [other.platform], status="proposed")
    auth.login(parties.officer)
    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    assert f"/consultations/agenda/request/{request_id}" not in page
    assert 'id="consultations"' not in page

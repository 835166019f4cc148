"""Who should connect (issue 16, item 1): the host's people with their state here (connected,
invalid, not connected, invited), and the record holders ORCID's expanded-search finds at the
institution who have not connected, on the admin page and in ``flask orcid people``; the page's
"invite" sends a real email."""

from __future__ import annotations

import csv
import io

import pytest

from flask_orcid import InstitutionPerson
from flask_orcid.emulator.seed import CARBERRY, FERNANDEZ, GARCIA, OKAFOR, RAMAN, RIVERA
from tests.campaign_support import INSTITUTION, path_of
from tests.plugins.app import orcid
from tests.plugins.mail import link_in


@pytest.fixture
def people_app(make_app, make_user, smtp_server, emulator, login, connect):
    """Four people: Carberry connected, García connected then refused by ORCID (invalid), one
    invited, one not connected; the signed-in user is the admin."""
    app = make_app(**INSTITUTION, **smtp_server.config())
    carberry = make_user(app, given_names="Josiah")
    garcia = make_user(app, given_names="María")
    admin = make_user(app, given_names="Admin")
    listed = [
        InstitutionPerson(key="s1", name="Josiah Carberry", email="josiah@example.edu",
                          kind="staff", user_key=str(carberry.id)),
        InstitutionPerson(key="s2", name="María García", kind="graduate",
                          user_key=str(garcia.id)),
        InstitutionPerson(key="s3", name="Ada Invited", email="ada@example.org"),
        InstitutionPerson(key="s4", name="Tomás Rivera", email="t.rivera@example.edu",
                          orcid=RIVERA),
    ]
    orcid.people_source(lambda: listed)
    orcid.admin_checker(lambda: True)
    for user, researcher in ((carberry, CARBERRY), (garcia, GARCIA)):
        client = app.test_client()
        login(client, user)
        assert connect(client, researcher).status_code == 302
    emulator.user_revoke(GARCIA)
    with app.app_context():
        orcid.read_record_for_prefill(str(garcia.id))  # ORCID answers 401: the token is dead
        assert orcid.get_account(str(garcia.id)).status == "invalid"
        orcid.invite(subject="people:connect", name="Ada Invited", email="ada@example.org",
                     person="s3")
    client = app.test_client()
    login(client, admin)
    app.config["_client"] = client
    yield app
    orcid._people_source = None
    orcid._admin_checker = None


def test_the_cli_lists_each_person_and_the_record_holders_not_connected(people_app):
    result = people_app.test_cli_runner().invoke(args=["orcid", "people", "--csv"])
    assert result.exit_code == 0, result.output
    read = list(csv.DictReader(io.StringIO(result.output)))
    rows = {r["key"]: r for r in read if r["kind"] != "record_holder"}
    assert (rows["s1"]["connection"], rows["s1"]["orcid"]) == ("connected", CARBERRY)
    assert rows["s2"]["connection"] == "invalid"
    assert (rows["s3"]["connection"], rows["s3"]["invitation"]) == ("not_connected", "sent")
    assert rows["s4"]["connection"] == "not_connected" and rows["s4"]["orcid"] == ""
    holders = {r["orcid"]: r for r in read if r["kind"] == "record_holder"}
    # by ROR id, by the institution's name (a GRID-identified entry), by an email at its domain
    assert {OKAFOR, FERNANDEZ, RIVERA} <= set(holders)
    assert RAMAN not in holders  # her link to the institution is not public
    assert CARBERRY not in holders  # connected here
    assert holders[RIVERA]["key"] == "s4"  # matched to the host's person by the typed iD
    assert "ada.okafor@example.edu" in holders[OKAFOR]["email"]


def test_the_csv_never_hands_a_spreadsheet_a_formula(make_app, emulator):
    """Names come from the host's lists and from ORCID's public records: a cell that would
    start a formula is quoted (CSV injection)."""
    app = make_app(**INSTITUTION)
    orcid.people_source(lambda: [InstitutionPerson(key="x1", name='=HYPERLINK("http://evil")',
                                                   email="+1@example.edu")])
    try:
        result = app.test_cli_runner().invoke(args=["orcid", "people", "--csv", "--no-search"])
    finally:
        orcid._people_source = None
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.output)))
    assert row["name"] == "'=HYPERLINK(\"http://evil\")"
    assert row["email"] == "'+1@example.edu"


def test_the_table_form_and_no_search(people_app):
    result = people_app.test_cli_runner().invoke(args=["orcid", "people", "--no-search"])
    assert result.exit_code == 0, result.output
    assert "4 people, 0 record holders" in result.output
    assert "Josiah Carberry" in result.output and "invalid" in result.output


def test_the_admin_page_searches_and_invites_a_record_holder(people_app, smtp_server):
    client = people_app.config["_client"]
    html = client.get("/orcid/admin/people").get_data(as_text=True)
    assert 'data-key="s1" data-connection="connected"' in html
    assert 'data-key="s2" data-connection="invalid"' in html
    assert "Search ORCID" in html and OKAFOR not in html  # ORCID is asked only on request
    html = client.get("/orcid/admin/people?search=1").get_data(as_text=True)
    assert f'data-orcid="{OKAFOR}"' in html and f'data-orcid="{RAMAN}"' not in html
    assert 'value="ada.okafor@example.edu"' in html  # her public email, ready to send
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/orcid/admin/people/invite", data={
        "csrf_token": token, "orcid": OKAFOR, "name": "A. N. Okafor",
        "email": "ada.okafor@example.edu", "lang": "es"})
    assert response.status_code == 302
    message = smtp_server.wait(2)[-1]  # (the first went to Ada, invited in the fixture)
    assert message["To"] == "ada.okafor@example.edu" and message["Content-Language"] == "es"
    page = client.get(path_of(link_in(message))).get_data(as_text=True)
    assert "A. N. Okafor" in page and "investigador/a" in page
    with people_app.app_context():
        [invitation] = orcid.invitations_for("people:connect", f"orcid:{OKAFOR}")
        assert invitation.typed_orcid == OKAFOR


def test_only_admins_see_the_people_page(people_app):
    orcid._admin_checker = None
    assert people_app.config["_client"].get("/orcid/admin/people").status_code == 403
    assert people_app.test_client().post("/orcid/admin/people/invite").status_code in (400, 403)

"""The member /summary (issue 16 item 4): the emulator serves it as ORCID does, the client
reads it, staff see the trust markers, and a verified institutional domain changes prefill."""

from __future__ import annotations

import copy

import requests
from lxml import etree

from flask_orcid import HostInstitution, prefill_data
from flask_orcid.emulator.seed import CARBERRY, FERNANDEZ, OKAFOR
from flask_orcid.protocol.client import ORCIDClient
from tests.outbox_support import new_researcher
from tests.plugins.app import orcid

XML = "application/vnd.orcid+xml"
JSON = "application/vnd.orcid+json"
S = "{http://www.orcid.org/ns/summary}"
BROWN = HostInstitution(name="Brown University", ror="https://ror.org/05gq02987",
                        domains=("example.edu",))
GRID_BROWN_EDUCATION = """<?xml version="1.0" encoding="UTF-8"?>
<education:education xmlns:common="http://www.orcid.org/ns/common"
    xmlns:education="http://www.orcid.org/ns/education">
  <common:department-name>Department of Geology</common:department-name>
  <common:role-title>PhD candidate</common:role-title>
  <common:start-date><common:year>2022</common:year></common:start-date>
  <common:organization>
    <common:name>Brown University</common:name>
    <common:address><common:city>Providence</common:city><common:region>RI</common:region>
      <common:country>US</common:country></common:address>
    <common:disambiguated-organization>
      <common:disambiguated-organization-identifier>grid.40263.33</common:disambiguated-organization-identifier>
      <common:disambiguation-source>GRID</common:disambiguation-source>
    </common:disambiguated-organization>
  </common:organization>
</education:education>"""


def client_token(emulator, scope="/read-public") -> str:
    return requests.post(f"{emulator.url}/oauth/token", timeout=10, data={
        "client_id": emulator.client_id, "client_secret": emulator.client_secret,
        "grant_type": "client_credentials", "scope": scope}).json()["access_token"]


def summary(emulator, orcid_id, token=None, media=XML) -> requests.Response:
    headers = {"Accept": media}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(f"{emulator.url}/v3.0/{orcid_id}/summary", headers=headers, timeout=10)


def without_empty_groups(document: bytes) -> etree._Element:
    """ORCID writes a group with no entries as its count alone (SummaryManagerImpl.java:
    327-333), which the XSD refuses; drop those to validate the rest."""
    root = etree.fromstring(document)
    for group in list(root):
        count = group.find(f"{S}count")
        if count is not None and count.text == "0" and len(group) == 1:
            root.remove(group)
    return root


def test_the_summary_is_orcids_document(emulator, orcid_schemas):
    response = summary(emulator, CARBERRY, client_token(emulator))
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    empty = root.find(f"{S}professional-activities")
    assert [c.tag for c in empty] == [f"{S}count"] and empty[0].text == "0"
    orcid_schemas.validate(etree.tostring(without_empty_groups(response.content)))
    assert root.findtext(f"{S}credit-name") == "Josiah S. Carberry"
    assert root.findtext(f"{S}works/{S}validated-count") == "1"  # Crossref's work
    assert root.findtext(f"{S}works/{S}self-asserted-count") == "1"  # his own
    assert root.findtext(f"{S}email-domains/{S}email-domain/{S}value") == "example.edu"
    education = root.find(f"{S}education-qualifications/{S}education-qualification")
    assert education.findtext(f"{S}organization-name") == "Brown University"
    assert education.findtext(f"{S}validated") == "false"


def test_personal_mail_domains_are_no_trust_marker(emulator):
    body = summary(emulator, FERNANDEZ, client_token(emulator), JSON).json()
    assert body["email-domains"] == {"count": 0, "email-domain": []}
    assert body["works"] == {"self-asserted-count": 0, "validated-count": 1}


def test_who_may_read_the_summary(emulator):
    assert summary(emulator, CARBERRY).status_code == 401
    assert summary(emulator, CARBERRY, media=JSON).json()["error-code"] == 9017
    webhook = summary(emulator, CARBERRY, client_token(emulator, "/webhook"), JSON)
    assert webhook.status_code == 403 and webhook.json()["error-code"] == 9038
    assert summary(emulator, CARBERRY, "not-a-token", JSON).json()["error"] == "invalid_token"
    assert summary(emulator, "0000-0001-5000-0007", client_token(emulator),
                   JSON).json()["error-code"] == 9011


def test_the_client_reads_trust_markers(emulator):
    client = ORCIDClient(emulator.client_id, emulator.client_secret, environment="emulator",
                         emulator_url=emulator.url)
    try:
        marks = client.read_summary(OKAFOR, client_token(emulator))
    finally:
        client.close()
    assert marks.orcid == OKAFOR and marks.verified_domains == ["example.edu"]
    assert (marks.works_validated, marks.works_self_asserted) == (1, 0)
    assert marks.employment_count == 1 and marks.employments[0].organization_name == (
        "Brown University")
    assert marks.employments[0].validated is False


def test_staff_see_the_trust_markers_of_a_connection(make_app, make_user, login, connect,
                                                     emulator):
    app = make_app()
    researcher = new_researcher(emulator)
    user = make_user(app, email=researcher["email"])
    client = app.test_client()
    login(client, user)
    assert connect(client, researcher).status_code == 302
    with app.app_context():
        marks = orcid.trust_markers(str(user.id))
        assert orcid.trust_markers("nobody") is None
    assert marks is not None and marks.verified_domains == ["example.edu"]
    assert (marks.works_validated, marks.works_self_asserted) == (0, 0)


def test_a_verified_institutional_domain_changes_what_is_prefilled(make_app, make_user, login,
                                                                   connect, emulator):
    researcher = new_researcher(emulator)  # a verified, public ...@example.edu address
    plain = make_app()
    trusting = make_app(ORCID_INSTITUTION_DOMAINS="example.edu")
    user = make_user(plain, email=researcher["email"])
    client = plain.test_client()
    login(client, user)
    assert connect(client, researcher).status_code == 302
    with plain.app_context():
        token = orcid.get_account(str(user.id)).access_token
    posted = requests.post(f"{emulator.url}/v3.0/{researcher['orcid']}/education",
                           data=GRID_BROWN_EDUCATION.encode(), timeout=10, headers={
                               "Content-Type": XML, "Authorization": f"Bearer {token}"})
    assert posted.status_code == 201, posted.text
    # The institution is known by ROR and domain only: no country to confirm a name match.
    institution = HostInstitution(name="Brown University", ror=BROWN.ror, domains=BROWN.domains)
    with plain.app_context():
        record = orcid.read_record_for_prefill(str(user.id))
    assert record.verified_email_domains == []
    assert "department" not in prefill_data(record, institution=institution)
    # the same connection, read by an app that knows its institution's email domain
    app_user = make_user(trusting, email=researcher["email"])
    with trusting.app_context():
        account = orcid.Account(orcid=researcher["orcid"], user_key=str(app_user.id))
        orcid.store_token(account, {"access_token": token, "token_type": "bearer",
                                    "scope": "/read-limited /activities/update",
                                    "orcid": researcher["orcid"]})
        orcid.db.session.add(account)
        orcid.db.session.commit()
        trusted = orcid.read_record_for_prefill(str(app_user.id))
    assert trusted.verified_email_domains == ["example.edu"]
    data = prefill_data(trusted, institution=institution)
    assert data["department"] == "Department of Geology"
    assert data["institution"] == "Brown University"
    # Without the domain on the institution, the same record prefills no department.
    assert "department" not in prefill_data(copy.deepcopy(trusted), institution=HostInstitution(
        name="Brown University", ror=BROWN.ror))

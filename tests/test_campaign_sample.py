"""The sample repository's side of issue 16: its people (students, and authors of published
theses as graduates) on the people page, and a campaign of its past graduates (the authors of
published, unembargoed theses who have no iD here), sent from the admin's pages."""

from __future__ import annotations

import re

from example_repository.samples import seed_sample_theses
from tests.campaign_support import INSTITUTION


def test_the_sample_lists_its_people_and_backfills_its_graduates(make_repo, make_person,
                                                                 campaign_smtp):
    app = make_repo(with_emulator=True, ORCID_EXTERNAL_URL=INSTITUTION["ORCID_EXTERNAL_URL"],
                    **campaign_smtp.config())
    with app.app_context(), app.test_request_context("/"):
        assert seed_sample_theses() == 3  # one of them under embargo
    admin = make_person(app, email="admin@example.edu", admin=True)
    make_person(app, email="student@example.edu", given_names="Ada")

    html = admin.client.get("/orcid/admin/people").get_data(as_text=True)
    assert "Inés Robledo Vidal" in html and "Ada Lovelace" in html
    rows = re.findall(r'<tr data-key="(user:\d+)" data-connection="(\w+)">', html)
    assert len(rows) == 4 and {c for _k, c in rows} == {"not_connected"}  # 3 authors, Ada
    assert "Campaigns" in html  # the sample's own layout, with its admin links

    response = admin.post_form("/orcid/admin/campaigns",
                               {"name": "Past graduates", "source": "host", "lang": "es"},
                               page="/orcid/admin/campaigns")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 people" in page and "Trust and Delegation" not in page  # embargoed: not yet
    result = app.test_cli_runner().invoke(args=["orcid", "campaign", "run"])
    assert "2 invited" in result.output, result.output
    subjects = {str(m["To"]): str(m["Subject"]) for m in campaign_smtp.messages}
    assert subjects == {"ines.robledo@example.edu": "Añada su tesis a su registro ORCID",
                        "thomas.okafor@example.edu": "Añada su tesis a su registro ORCID"}

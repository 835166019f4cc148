"""Backfill campaigns (issue 16, item 2): the CSV, one graduate end to end against the
emulator and a real SMTP server, bounces, retries, reminders with the fake clock and their
limit, the admin pages and the CLI."""

from __future__ import annotations

import pytest

from flask_orcid.protocol.model import Organization
from flask_orcid.sync import campaigns as cp
from flask_orcid.sync.campaign_rows import read_csv
from tests.campaign_support import (
    INSTITUTION,
    answer,
    fake_clock,
    graduate,
    graduates_csv,
    last_link,
)
from tests.plugins.app import orcid

BROWN = Organization(name="Brown University", city="Providence", region="RI", country="US",
                     disambiguated_id="https://ror.org/05gq02987", disambiguation_source="ROR")


@pytest.fixture
def campaign_app(make_app, campaign_smtp, tmp_path):
    # a database file: the delivery pass's threads each use a connection of their own
    return make_app(**INSTITUTION, **campaign_smtp.config(),
                    SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'site.sqlite'}")


def statuses(app, campaign_id):
    with app.app_context():
        return {p.email: (p.status, p.reason) for p in orcid.campaign_people(campaign_id)}


def test_the_csv_refuses_bad_rows_by_line_and_keeps_the_rest():
    rows = [graduate(1), graduate(2, email="not-an-address"), graduate(3, date="May 2010"),
            graduate(4, doi=""), graduate(5, orcid="0000-0002-1825-0098"),
            graduate(6, email="GRAD001@alumni.example.org"), graduate(7, title=""),
            graduate(8, handle="hdl:20.500.12345/8", doi="", orcid="https://orcid.org/0000-0002-1825-0097"),
            graduate(9, date="2010-13")]
    people, problems = read_csv(graduates_csv(rows), BROWN)
    assert [p.email for p in people] == ["grad001@alumni.example.org",
                                         "grad008@alumni.example.org"]
    assert people[1].orcid == "0000-0002-1825-0097" and people[1].handle == "hdl:20.500.12345/8"
    lines = {p.line: p.message for p in problems}
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 10]  # the header is line 1
    assert "not an email address" in lines[3] and "date" in lines[4]
    assert "DOI or a handle" in lines[5] and "not an ORCID iD" in lines[6]
    assert "same person as line 2" in lines[7] and "missing title" in lines[8]
    assert "month" in lines[10]


def test_a_file_without_the_required_columns_is_refused_as_a_whole():
    people, problems = read_csv("name,mail\nA,a@example.org\n", BROWN)
    assert people == [] and problems[0].line == 1 and "email" in problems[0].message


def test_one_graduate_end_to_end(campaign_app, campaign_smtp, emulator, monkeypatch):
    who = emulator.new_researcher(given_names="Grad001", family_name="Person",
                                  email="grad001@alumni.example.org", password="pw-grad-001")
    csv_text = graduates_csv([graduate(1), graduate(2, lang="es")])
    with fake_clock(monkeypatch):
        with campaign_app.app_context():
            campaign_id = orcid.create_campaign(name="Class of 2001", csv_text=csv_text).id
            result = orcid.run_campaigns()
            assert (result.invited, result.due) == (2, 2)
            assert orcid.run_campaigns().due == 0  # nothing twice
        [first] = campaign_smtp.to("grad001@alumni.example.org")
        [second] = campaign_smtp.to("grad002@alumni.example.org")
        assert first["Subject"] == "Add your thesis to your ORCID record"
        assert second["Subject"] == "Añada su tesis a su registro ORCID"
        assert "Essays on topic 1" in first.get_body(("plain",)).get_content()
        client = campaign_app.test_client()
        page = answer(client, emulator, last_link(campaign_smtp, who["email"]), who,
                      add_work=True)
        assert page.status_code == 200
        assert statuses(campaign_app, campaign_id)[who["email"]][0] == cp.CONNECTED
        with campaign_app.app_context():
            orcid.deliverer(campaign_app).run_once()
            orcid.run_campaigns()
    assert statuses(campaign_app, campaign_id)[who["email"]] == (cp.DELIVERED, None)
    record = emulator.record(who["orcid"])
    works = [w for w in record["works"] if w["title"] == "Essays on topic 1"]
    assert len(works) == 1 and works[0]["type"] == "dissertation-thesis"
    educations = [e for e in record["educations"] if e["role_title"] == "PhD in History"]
    assert len(educations) == 1

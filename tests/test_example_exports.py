"""Everyone's iD and its authentication status in every export (issue 15, item 4): DataCite
4.7 XML (valid against DataCite's kernel-4.7 XSD), OAI-PMH oai_dc / oai_etdms / datacite,
JSON-LD; and the landing page's links to them. The author's iD is authenticated through the
emulator; a contributor's through an invitation (simulated here by its outcome, the
``orcid_authenticated`` flag, which the invitations feature sets)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from example_repository.db import db
from example_repository.models import CO_AUTHOR, COMMITTEE_MEMBER, Advisor, Thesis
from tests.test_example_orcid import JOSIAH, connect
from tests.test_example_workflow import accept, submit_thesis, theses
from tests.xsd import validate

DATACITE = {"d": "http://datacite.org/schema/kernel-4"}
OAI = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/",
       "etd": "http://www.ndltd.org/standards/metadata/etdms/1.0/"}
TYPED = "0000-0003-4567-890X"         # the advisor's iD, typed into the form
COMMITTEE = "0000-0001-5109-3700"     # a committee member who accepted an invitation
COAUTHOR_TYPED = "0000-0002-1694-233X"  # a co-author's typed iD


@pytest.fixture
def thesis_with_people(make_repo, make_person, authorize, emulator):
    """Josiah (authenticated author), Babbage (advisor, typed iD), Haak (committee member,
    authenticated iD), Menabrea (co-author, typed iD), Somerville (committee, no iD)."""
    repo = make_repo(with_emulator=True)
    josiah = make_person(repo, email="josiah@example.edu", given_names="Josiah",
                         family_name="Carberry")
    connect(josiah, authorize)
    submit_thesis(josiah, given_names="Josiah", family_name="Carberry",
                  **{"advisors-0-orcid": TYPED})
    [thesis] = theses(repo)
    accept(make_person(repo, email="admin@example.edu", admin=True), thesis.id)
    with repo.app_context():
        row = db.session.get(Thesis, thesis.id)
        row.advisors.extend([
            Advisor(position=1, name="Laure Haak", role=COMMITTEE_MEMBER, orcid=COMMITTEE,
                    orcid_authenticated=True),
            Advisor(position=2, name="Luigi Menabrea", role=CO_AUTHOR, orcid=COAUTHOR_TYPED),
            Advisor(position=3, name="Mary Somerville", role=COMMITTEE_MEMBER),
        ])
        db.session.commit()
    return repo, thesis.id, emulator.url


def test_datacite_xml_is_valid_and_asserts_authenticated_ids_only(thesis_with_people):
    repo, thesis_id, registry = thesis_with_people
    response = repo.test_client().get(f"/theses/{thesis_id}/datacite.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.datacite.datacite+xml"
    root = validate(response.data, "datacite-4.7/metadata.xsd")

    def people(tag: str) -> dict[str, list[str]]:
        out = {}
        for node in root.xpath(f"//d:{tag}", namespaces=DATACITE):
            name = node.findtext(f"d:{tag}Name", namespaces=DATACITE)
            ids = node.xpath("d:nameIdentifier", namespaces=DATACITE)
            assert all(i.get("nameIdentifierScheme") == "ORCID" for i in ids)
            assert all(i.get("schemeURI") == registry for i in ids)
            out[f"{node.get('contributorType', 'creator')}: {name}"] = [i.text for i in ids]
        return out

    assert people("creator") == {
        "creator: Carberry, Josiah": [f"{registry}/{JOSIAH}"],
        "creator: Luigi Menabrea": [],  # a typed iD is never asserted
    }
    assert people("contributor") == {
        "Supervisor: Charles Babbage": [],
        "Other: Laure Haak": [f"{registry}/{COMMITTEE}"],
        "Other: Mary Somerville": [],
        "HostingInstitution: Graduate School Thesis Repository": [],
    }
    assert TYPED not in response.get_data(as_text=True)
    assert COAUTHOR_TYPED not in response.get_data(as_text=True)
    text = {k: root.xpath(f"string(//d:{k})", namespaces=DATACITE)
            for k in ("identifier", "publicationYear", "language")}
    assert text["identifier"].startswith("10.5072/etd.2024.") and text["publicationYear"] == "2024"
    assert root.find("d:resourceType", DATACITE).get("resourceTypeGeneral") == "Dissertation"
    assert root.xpath("//d:alternateIdentifier/@alternateIdentifierType",
                      namespaces=DATACITE) == ["Handle", "URL"]
    assert root.xpath("//d:subject/text()", namespaces=DATACITE) == [
        "computing", "history", "algorithms"]
    rights = root.find("d:rightsList/d:rights", DATACITE)
    assert rights.get("rightsIdentifier") == "CC-BY-4.0"
    assert rights.get("rightsURI") == "https://creativecommons.org/licenses/by/4.0/"
    assert root.xpath("//d:description/@descriptionType", namespaces=DATACITE) == [
        "Abstract", "TechnicalInfo"]


def test_oai_formats_carry_every_id_with_its_status(thesis_with_people):
    repo, thesis_id, registry = thesis_with_people
    client = repo.test_client()

    def get(prefix: str):
        response = client.get("/oai", query_string={
            "verb": "GetRecord", "metadataPrefix": prefix,
            "identifier": f"oai:localhost:etd/{thesis_id}"})
        return validate(response.data)

    authenticated = f"Carberry, Josiah ({registry}/{JOSIAH})"
    committee = f"Laure Haak ({registry}/{COMMITTEE})"
    typed = f"Charles Babbage (ORCID iD {TYPED}, not authenticated)"
    coauthor = f"Luigi Menabrea (ORCID iD {COAUTHOR_TYPED}, not authenticated)"
    dc = get("oai_dc")
    assert dc.xpath("//dc:creator/text()", namespaces=OAI) == [authenticated, coauthor]
    assert dc.xpath("//dc:contributor/text()", namespaces=OAI) == [
        typed, committee, "Mary Somerville"]
    etd = get("oai_etdms")
    assert etd.xpath("//etd:creator/text()", namespaces=OAI) == [authenticated, coauthor]
    assert [(c.get("role"), c.text) for c in etd.xpath("//etd:contributor", namespaces=OAI)] == [
        ("advisor", typed), ("committee member", committee),
        ("committee member", "Mary Somerville")]
    assert etd.xpath("string(//etd:degree/etd:level)", namespaces=OAI) == "2"
    datacite = get("datacite")
    assert datacite.xpath("//*[local-name()='nameIdentifier']/text()") == [
        f"{registry}/{JOSIAH}", f"{registry}/{COMMITTEE}"]
    # no harvester reading iD URIs finds a typed one
    for root in (dc, etd, datacite):
        found = set(re.findall(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", " ".join(
            t for t in root.itertext() if "/" in t and "not authenticated" not in t)))
        assert found == {JOSIAH, COMMITTEE}


def test_json_ld_marks_unauthenticated_ids_instead_of_dropping_them(thesis_with_people):
    repo, thesis_id, registry = thesis_with_people
    doc = json.loads(repo.test_client().get(f"/theses/{thesis_id}/metadata.jsonld").data)
    author, coauthor = doc["author"]
    assert author["@id"] == f"{registry}/{JOSIAH}"
    assert "@id" not in coauthor
    assert coauthor["identifier"] == {
        "@type": "PropertyValue", "propertyID": "ORCID", "value": COAUTHOR_TYPED,
        "url": f"{registry}/{COAUTHOR_TYPED}", "description": "not authenticated"}
    by_name = {p["name"]: p for p in doc["contributor"]}
    assert by_name["Laure Haak"]["@id"] == f"{registry}/{COMMITTEE}"
    assert "description" not in by_name["Laure Haak"]["identifier"]
    assert by_name["Charles Babbage"]["identifier"]["description"] == "not authenticated"
    assert "@id" not in by_name["Charles Babbage"]
    assert "identifier" not in by_name["Mary Somerville"]


def test_landing_page_links_and_signposting_work(thesis_with_people):
    repo, thesis_id, _registry = thesis_with_people
    client = repo.test_client()
    response = client.get(f"/theses/{thesis_id}")
    html = response.get_data(as_text=True)
    hrefs = re.findall(r'<a[^>]*href="(/theses/\d+/[a-z.]+)"', html)
    assert {f"/theses/{thesis_id}/metadata.jsonld", f"/theses/{thesis_id}/citation.bib",
            f"/theses/{thesis_id}/datacite.xml", f"/theses/{thesis_id}/thesis.pdf"} <= set(hrefs)
    for href in hrefs:
        linked = client.get(href)
        linked.close()  # the PDF is a file response
        assert linked.status_code == 200, href
    described = re.findall(r'<http://localhost(/[^>]+)>; rel="describedby"; type="([^"]+)"',
                           response.headers["Link"])
    assert {t for _url, t in described} == {
        "application/ld+json", "application/x-bibtex", "application/vnd.datacite.datacite+xml"}
    for url, media_type in described:
        linked = client.get(url)
        assert linked.status_code == 200 and linked.mimetype == media_type


def test_withdrawn_and_unknown_theses_have_no_datacite_export(make_repo, make_person):
    repo = make_repo()
    student = make_person(repo)
    until = dt.date.today() + dt.timedelta(days=400)
    submit_thesis(student, embargo_until=until.isoformat(), license="all-rights-reserved")
    [thesis] = theses(repo)
    admin = make_person(repo, email="admin@example.edu", admin=True)
    accept(admin, thesis.id)
    client = repo.test_client()
    embargoed = client.get(f"/theses/{thesis.id}/datacite.xml")
    root = validate(embargoed.data, "datacite-4.7/metadata.xsd")
    assert root.xpath("//d:date[@dateType='Available']/text()", namespaces=DATACITE) == [
        until.isoformat()]
    assert root.find("d:formats", DATACITE) is None  # the PDF is held back
    rights = root.find("d:rightsList/d:rights", DATACITE)
    assert rights.text == "All rights reserved" and rights.get("rightsIdentifier") is None
    admin.post_form(f"/admin/theses/{thesis.id}/withdraw",
                    {"withdraw-reason": "Duplicate", "withdraw-withdraw": "1"},
                    page=f"/admin/theses/{thesis.id}")
    assert client.get(f"/theses/{thesis.id}/datacite.xml").status_code == 410
    assert client.get("/theses/999/datacite.xml").status_code == 404

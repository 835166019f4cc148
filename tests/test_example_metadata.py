"""Public metadata of the sample repository: citation, Highwire tags, JSON-LD, BibTeX, and
what happens to hostile text in them (issue 6)."""

from __future__ import annotations

import json
import re

import pytest

from example_repository.metadata import initials
from tests.test_example_workflow import accept, submit_thesis, theses


@pytest.mark.parametrize(("given", "expected"), [
    ("Josiah", "J."),
    ("María José", "M. J."),
    ("Jean-Paul", "J.-P."),
    ("", ""),
])
def test_initials(given, expected):
    assert initials(given) == expected


@pytest.fixture
def published(make_repo, make_person):
    def publish(**fields):
        repo = make_repo()
        student = make_person(repo)
        assert submit_thesis(student, **fields).status_code == 302
        [thesis] = theses(repo)
        admin = make_person(repo, email="admin@example.edu", admin=True)
        accept(admin, thesis.id)
        return repo, thesis.id

    return publish


def test_masters_thesis_citation_and_bibtex(published):
    repo, thesis_id = published(degree="ms", given_names="María José",
                                family_name="García Núñez", title="Mapas {y} rutas",
                                subtitle="", language="es")
    client = repo.test_client()
    html = client.get(f"/theses/{thesis_id}").get_data(as_text=True)
    assert ("García Núñez, M. J. (2024). Mapas {y} rutas [Master&#39;s thesis, "
            "Brown University]") in html
    bib = client.get(f"/theses/{thesis_id}/citation.bib").get_data(as_text=True)
    assert bib.startswith("@mastersthesis{garcía2024etd")
    assert "title = {Mapas \\{y\\} rutas}" in bib and "language = {es}" in bib


def test_highwire_tags_and_json_ld(published):
    repo, thesis_id = published()
    client = repo.test_client()
    html = client.get(f"/theses/{thesis_id}").get_data(as_text=True)
    tags = re.findall(r'<meta name="(citation_[a-z_]+)" content="([^"]*)">', html)
    names = [name for name, _ in tags]
    assert names[:2] == ["citation_title", "citation_author"]
    assert ("citation_title", "Notes on the Analytical Engine: Programs before computers") in tags
    assert ("citation_author", "Lovelace, Ada") in tags
    assert ("citation_publication_date", "2024/05/20") in tags
    assert ("citation_dissertation_institution", "Brown University") in tags
    assert [v for n, v in tags if n == "citation_keywords"] == ["computing", "history",
                                                               "algorithms"]
    assert any(n == "citation_pdf_url" and v.endswith(f"/theses/{thesis_id}/thesis.pdf")
               for n, v in tags)
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    doc = json.loads(block)
    assert doc["@type"] == "Thesis" and doc["inSupportOf"] == "Doctor of Philosophy (PhD)"
    assert doc["sourceOrganization"]["@id"] == "https://ror.org/05gq02987"
    assert doc["@id"].startswith("https://doi.org/10.5072/etd.2024.")
    assert {i["propertyID"] for i in doc["identifier"]} == {"doi", "handle"}
    assert doc["encoding"]["encodingFormat"] == "application/pdf"
    assert json.loads(client.get(f"/theses/{thesis_id}/metadata.jsonld").data) == doc


def test_hostile_text_stays_text(published):
    evil = '</script><script>alert("x")</script>'
    repo, thesis_id = published(title=f"Injection {evil}", family_name='Lovelace"><b>')
    html = repo.test_client().get(f"/theses/{thesis_id}").get_data(as_text=True)
    assert '<script>alert("x")' not in html and "<b>" not in html
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert json.loads(block)["name"] == f"Injection {evil}"


def test_sitemap_lists_published_landing_pages(published):
    repo, thesis_id = published()
    xml = repo.test_client().get("/sitemap.xml").get_data(as_text=True)
    assert f"<loc>http://localhost/theses/{thesis_id}</loc>" in xml

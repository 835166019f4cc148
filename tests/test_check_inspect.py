"""How the integration check reads pages and exports (issue 16, item 5): the iD displays the
extension's macros produce, and iDs in JSON-LD and XML exports with or without a flag saying
they were not authenticated."""

from __future__ import annotations

from flask import render_template_string

from flask_orcid import orcid_uri_for
from flask_orcid.readiness.exports import describedby, ids_in
from flask_orcid.readiness.html_inspect import benefit_text, id_displays, parse
from flask_orcid.readiness.site import Page

AUTHOR = "0000-0002-1825-0097"
ADVISOR = "0000-0002-1694-233X"


def _page(text: str, links: list[str] | None = None) -> Page:
    return Page("http://localhost/x", 200, {}, text, links or [])


def test_the_macros_icon_only_authenticated_ids(app):
    with app.test_request_context("/"):
        html = render_template_string(
            '{% import "orcid/macros.html" as o %}<body><p>{{ o.orcid_id_full(a) }}</p>'
            "<p>{{ o.orcid_id_compact(a) }}</p><p>{{ o.orcid_id_inline(a, name='J. C.') }}</p>"
            "<p>{{ o.orcid_id_compact(b, authenticated=False) }}</p>"
            "<p>{{ o.orcid_id_full(b, authenticated=False) }}</p></body>", a=AUTHOR, b=ADVISOR)
        uri = orcid_uri_for(AUTHOR)
    every = id_displays(parse(html))
    shown = [s for s in every if s.href]
    assert [(s.orcid, s.icon) for s in shown] == [
        (AUTHOR, True), (AUTHOR, True), (AUTHOR, True), (ADVISOR, False), (ADVISOR, False)]
    # only the full format shows the whole URI as the link's text
    assert [uri in s.text for s in shown[:3]] == [True, False, False]
    assert all(s.href and s.href.endswith(s.orcid) for s in shown)
    # the compact format's bare iD beside its linked icon is text on the page too
    assert [(s.orcid, s.text) for s in every if not s.href] == [(AUTHOR, AUTHOR)]


def test_an_id_in_plain_text_is_found_once():
    doc = parse(f"<body><p>Advisor iD: {ADVISOR}</p><a href='https://orcid.org/{AUTHOR}'>"
                f"{AUTHOR}</a> <span>{AUTHOR}</span></body>")
    assert [(s.orcid, s.href is None) for s in id_displays(doc)] == [
        (AUTHOR, False), (ADVISOR, True), (AUTHOR, True)]


def test_benefit_text_counts_marked_blocks_once():
    doc = parse("<body><section data-orcid-benefits><p>ORCID is an iD.</p>"
                "<div class='orcid-about'>Why we ask.</div></section><p>Other text.</p></body>")
    assert benefit_text(doc) == "ORCID is an iD. Why we ask."


def test_json_ld_ids_and_their_flag():
    doc = """{"@type": "Thesis", "author": {"@type": "Person", "@id": "https://orcid.org/AUTHOR"},
      "contributor": [
        {"@type": "Person", "name": "A", "identifier": {"@type": "PropertyValue",
         "propertyID": "ORCID", "value": "ADVISOR", "description": "ORCID iD not authenticated"}},
        {"@type": "Person", "name": "B", "additionalType": "UnauthenticatedORCID",
         "identifier": {"@type": "PropertyValue", "value": "https://orcid.org/ADVISOR"}},
        {"@type": "Person", "@id": "https://orcid.org/ADVISOR"}]}"""
    doc = doc.replace("AUTHOR", AUTHOR).replace("ADVISOR", ADVISOR)
    assert ids_in(_page(doc)) == [(AUTHOR, False), (ADVISOR, True), (ADVISOR, True),
                                  (ADVISOR, False)]


def test_xml_ids_and_their_flag():
    xml = f"""<resource><creators><creator><creatorName>C</creatorName>
      <nameIdentifier nameIdentifierScheme="ORCID">https://orcid.org/{AUTHOR}</nameIdentifier>
      </creator></creators><contributors>
      <contributor contributorType="Supervisor" authenticated="false"><contributorName>S
      </contributorName><nameIdentifier nameIdentifierScheme="ORCID">{ADVISOR}</nameIdentifier>
      </contributor><contributor contributorType="Other"><contributorName>T</contributorName>
      <nameIdentifier nameIdentifierScheme="ORCID">{ADVISOR}</nameIdentifier></contributor>
      </contributors></resource>"""
    assert ids_in(_page(xml)) == [(AUTHOR, False), (ADVISOR, True), (ADVISOR, False)]


def test_an_export_that_is_neither_json_nor_xml_is_read_as_text():
    assert ids_in(_page(f"@phdthesis{{x, note = {{ORCID {AUTHOR}}}}}")) == [(AUTHOR, False)]


def test_describedby_links_of_a_page():
    page = _page("", ['<https://doi.org/10.5072/x>; rel="cite-as", '
                      '<http://localhost/t/1/metadata.jsonld>; rel="describedby"; '
                      'type="application/ld+json", <http://localhost/t/1/datacite.xml>; '
                      'rel="describedby"; type="application/vnd.datacite.datacite+xml"',
                      '<https://schema.org/Thesis>; rel="type"'])
    assert describedby(page) == ["http://localhost/t/1/metadata.jsonld",
                                 "http://localhost/t/1/datacite.xml"]

"""Writing works and affiliations: ORCID's XSDs, ORCID's server rules, and the dict round-trip."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

import pytest
from lxml import etree

from flask_orcid import (
    Affiliation,
    Contributor,
    ExternalId,
    FuzzyDate,
    ORCIDError,
    Organization,
    ValidationError,
    Work,
    item_from_dict,
    parse_affiliation,
    parse_work,
    works_bulk_xml,
)

SUPERVISION = "http://credit.niso.org/contributor-roles/supervision/"
NS = {"work": "http://www.orcid.org/ns/work", "common": "http://www.orcid.org/ns/common"}

_SCHEMAS: dict[Path, etree.XMLSchema] = {}


def schema(model_dir: Path, name: str) -> etree.XMLSchema:
    """ORCID's official schema, loaded once per test session."""
    path = model_dir / "record_3.0" / name
    if path not in _SCHEMAS:
        _SCHEMAS[path] = etree.XMLSchema(etree.parse(str(path)))
    return _SCHEMAS[path]


def assert_schema_valid(model_dir: Path, name: str, xml: bytes) -> None:
    checker = schema(model_dir, name)
    document = etree.fromstring(xml)
    assert checker.validate(document), f"{name}: {checker.error_log}\n{xml.decode()}"


def minimal_work() -> Work:
    return Work(title="A thesis", external_ids=[ExternalId("handle", "20.500.12345/1")])


def full_thesis() -> Work:
    return Work(
        title="Tidal Energy in Narrow Straits",
        subtitle="Models and Measurements",
        translated_title="Energía mareomotriz en estrechos",
        translated_title_language="es",
        short_description=("We model tidal flows. " * 50).strip(),
        citation_type="bibtex",
        citation_value="@phdthesis{carberry2024,\n  title = {Tidal Energy},\n  year = 2024\n}",
        publication_date=FuzzyDate(2024, 6, 30),
        external_ids=[
            ExternalId("handle", "20.500.12345/6789", url="https://hdl.handle.net/20.500.12345/6789"),
            ExternalId("doi", "10.1234/Example.Thesis.2024", url="https://doi.org/10.1234/Example.Thesis.2024"),
            ExternalId("isbn", "978-3-16-148410-0", relationship="part-of"),
            ExternalId("grant_number", "NSF-1234567", relationship="funded-by"),
        ],
        url="https://repository.example.edu/handle/20.500.12345/6789",
        contributors=[
            Contributor("Josiah Carberry", "0000-0002-1825-0097", "first", "author"),
            Contributor("Ada Advisor", None, "additional", SUPERVISION),
            Contributor("Committee Member", role="http://credit.niso.org/contributor-roles/writing-review-editing/"),
        ],
        language_code="en",
        country="US",
    )


def spanish_work() -> Work:
    return Work(
        title="Análisis de la niñez en Señorío: ¿qué aprendimos?",
        subtitle="Una mirada crítica «desde abajo»",
        external_ids=[ExternalId("handle", "10915/12345")],
        contributors=[Contributor("María José García Núñez", sequence="first", role="author")],
        publication_date=FuzzyDate(2023, 12),
        language_code="es",
        country="AR",
    )


WORKS = {"minimal": minimal_work, "full_thesis": full_thesis, "spanish": spanish_work}

ROR_OXFORD = "https://ror.org/052gg0110"


def affiliation(section: str, **changes) -> Affiliation:
    item = Affiliation(
        section=section,
        organization=Organization(
            "Universidad Nacional de La Plata", "La Plata", "Buenos Aires", "AR", ROR_OXFORD, "ROR"
        ),
        department="Facultad de Ingeniería",
        role_title="Doctorado en Ingeniería",
        start_date=FuzzyDate(2019, 3),
        end_date=FuzzyDate(2024, 6, 30),
        url="https://unlp.edu.ar/",
        external_ids=[ExternalId("uri", "https://unlp.edu.ar/degrees/42")],
    )
    return dataclasses.replace(item, **changes)


# --- schema validity ----------------------------------------------------------------------------


@pytest.mark.parametrize("build", WORKS.values(), ids=WORKS.keys())
@pytest.mark.parametrize("put_code", [None, 4711])
def test_works_validate_against_orcids_work_schema(orcid_model_dir, build, put_code):
    assert_schema_valid(orcid_model_dir, "work-3.0.xsd", build().to_xml(put_code=put_code))


@pytest.mark.parametrize("section", Affiliation.SECTIONS)
@pytest.mark.parametrize("put_code", [None, 12])
def test_every_affiliation_section_validates_against_its_schema(orcid_model_dir, section, put_code):
    xml = affiliation(section).to_xml(put_code=put_code)
    assert etree.fromstring(xml).tag == f"{{http://www.orcid.org/ns/{section}}}{section}"
    assert_schema_valid(orcid_model_dir, f"{section}-3.0.xsd", xml)


def test_a_minimal_education_validates(orcid_model_dir):
    item = Affiliation("education", Organization("MIT", "Cambridge", None, "US", "https://ror.org/042nb2s44", "ROR"))
    assert_schema_valid(orcid_model_dir, "education-3.0.xsd", item.to_xml())


def test_professional_activity_named_by_its_ids_validates(orcid_model_dir):
    item = Affiliation(
        "distinction",
        Organization("Thesis Prize Society"),
        role_title="Best thesis award",
        external_ids=[ExternalId("uri", "https://example.org/award/1")],
    )
    assert_schema_valid(orcid_model_dir, "distinction-3.0.xsd", item.to_xml())


def test_bulk_body_validates_against_the_bulk_schema(orcid_model_dir):
    xml = works_bulk_xml([full_thesis(), spanish_work(), minimal_work()])
    assert_schema_valid(orcid_model_dir, "bulk-3.0.xsd", xml)
    assert len(etree.fromstring(xml)) == 3


def test_bulk_body_names_the_bad_work_and_refuses_more_than_100():
    with pytest.raises(ValidationError) as info:
        works_bulk_xml([minimal_work(), Work(title="")])
    assert info.value.field == "works[1].title"
    with pytest.raises(ValueError, match="1 to 100"):
        works_bulk_xml([minimal_work()] * 101)


# --- what goes on the wire -----------------------------------------------------------------------


def test_put_code_only_when_given_and_visibility_never():
    work = dataclasses.replace(full_thesis(), put_code=99, visibility="public")
    post = etree.fromstring(work.to_xml())
    assert post.get("put-code") is None
    assert post.get("visibility") is None
    put = etree.fromstring(work.to_xml(put_code=99))
    assert put.get("put-code") == "99"
    assert b"visibility" not in work.to_xml(put_code=99)


def test_work_elements_follow_the_schema_order():
    root = etree.fromstring(full_thesis().to_xml())
    names = [etree.QName(child).localname for child in root]
    assert names == [
        "title", "short-description", "citation", "type", "publication-date", "external-ids",
        "url", "contributors", "language-code", "country",
    ]  # fmt: skip


def test_dates_have_two_digit_months_and_days():
    xml = Work("T", publication_date=FuzzyDate(2024, 6, 3), external_ids=[ExternalId("doi", "10.1234/x")]).to_xml()
    root = etree.fromstring(xml)
    date = root.find("common:publication-date", NS)
    assert [e.text for e in date] == ["2024", "06", "03"]


def test_every_external_id_carries_its_relationship():
    root = etree.fromstring(full_thesis().to_xml())
    relationships = [e.text for e in root.iterfind(".//common:external-id-relationship", NS)]
    assert relationships == ["self", "self", "part-of", "funded-by"]


def test_contributor_orcid_is_written_as_a_path_and_credit_role_as_uri():
    root = etree.fromstring(full_thesis().to_xml())
    first, advisor, _ = root.iterfind(".//work:contributor", NS)
    assert first.findtext("common:contributor-orcid/common:path", namespaces=NS) == "0000-0002-1825-0097"
    assert advisor.find("common:contributor-orcid", NS) is None
    assert advisor.findtext("work:contributor-attributes/work:contributor-role", namespaces=NS) == SUPERVISION


def test_spanish_text_is_utf8_and_survives():
    work = spanish_work()
    xml = work.to_xml()
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "niñez en Señorío".encode() in xml
    read = parse_work(xml)
    assert read.title == work.title
    assert read.contributors[0].credit_name == "María José García Núñez"


def test_xml_special_characters_are_escaped():
    work = Work("Fish & Chips <a> \"quoted\"", external_ids=[ExternalId("doi", "10.1234/a&b<c")])
    assert parse_work(work.to_xml()).title == "Fish & Chips <a> \"quoted\""
    assert parse_work(work.to_xml()).external_ids[0].value == "10.1234/a&b<c"


# --- ORCID's server rules (API-FACTS §5) ---------------------------------------------------------


def _work(**changes) -> Work:
    return dataclasses.replace(full_thesis(), **changes)


def _ids(*items: ExternalId) -> list[ExternalId]:
    return list(items)


WORK_RULES = [
    ("no title", {"title": ""}, "title", "requires a title"),
    ("blank title", {"title": "   "}, "title", "requires a title"),
    ("long title", {"title": "x" * 1001}, "title", "at most 1000"),
    ("long subtitle", {"subtitle": "x" * 1001}, "subtitle", "at most 1000"),
    ("control char", {"title": "Bad\x07bell"}, "title", "control character"),
    ("old thesis type", {"type": "dissertation"}, "type", "dissertation-thesis"),
    ("unknown type", {"type": "blogpost"}, "type", "not a work type"),
    ("no ids", {"external_ids": []}, "external_ids", "at least one external identifier"),
    ("no self id", {"external_ids": _ids(ExternalId("isbn", "978-3-16-148410-0", "part-of"))}, "external_ids", "'self'"),
    ("no relationship", {"external_ids": _ids(ExternalId("handle", "1/2"), ExternalId("doi", "10.1234/x", None))}, "external_ids[1].relationship", "requires a relationship"),
    ("bad relationship", {"external_ids": _ids(ExternalId("handle", "1/2"), ExternalId("doi", "10.1234/x", "is-self"))}, "external_ids[1].relationship", "not a relationship"),
    ("unknown id type", {"external_ids": _ids(ExternalId("isbn13", "x"))}, "external_ids[0].type", "not an identifier type"),
    ("upper-case id type", {"external_ids": _ids(ExternalId("DOI", "10.1234/x"))}, "external_ids[0].type", "did you mean 'doi'"),
    ("empty id value", {"external_ids": _ids(ExternalId("doi", " "))}, "external_ids[0].value", "requires the identifier value"),
    ("funded-by handle", {"external_ids": _ids(ExternalId("doi", "10.1234/x"), ExternalId("handle", "1/2", "funded-by"))}, "external_ids[1].relationship", "'funded-by' only for"),
    ("prefixed handle", {"external_ids": _ids(ExternalId("handle", "hdl:1721.1/5"))}, "external_ids[0].value", "bare handle '1721.1/5'"),
    ("not a handle", {"external_ids": _ids(ExternalId("handle", "thesis 5"))}, "external_ids[0].value", "flask-orcid's own rule"),
    ("bad id url", {"external_ids": _ids(ExternalId("doi", "10.1234/x", url="doi.org/10.1/x"))}, "external_ids[0].url", "absolute http(s) URL"),
    ("year too early", {"publication_date": FuzzyDate(1899)}, "publication_date", "between 1900 and 2100"),
    ("year too late", {"publication_date": FuzzyDate(2101, 1)}, "publication_date", "between 1900 and 2100"),
    ("month 13", {"publication_date": FuzzyDate(2024, 13)}, "publication_date", "month"),
    ("30 February", {"publication_date": FuzzyDate(2024, 2, 30)}, "publication_date", "no day 30"),
    ("language", {"language_code": "english"}, "language_code", "not a language code"),
    ("translated title language", {"translated_title_language": "xx"}, "translated_title_language", "not a language code"),
    ("translated title alone", {"translated_title_language": None}, "translated_title_language", "needs its language"),
    ("country alpha-3", {"country": "USA"}, "country", "alpha-2"),
    ("country lower", {"country": "us"}, "country", "did you mean 'US'"),
    ("citation type", {"citation_type": "apa"}, "citation_type", "not a citation type"),
    ("citation without value", {"citation_value": None}, "citation_value", "both citation_type and citation_value"),
    ("blank journal", {"journal_title": " "}, "journal_title", "must not be blank"),
    ("long description", {"short_description": "x" * 5001}, "short_description", "at most 5000"),
    ("bad url", {"url": "repository/handle/1"}, "url", "absolute http(s) URL"),
    ("role", {"contributors": [Contributor("A", role="supervisor")]}, "contributors[0].role", "not a contributor role"),
    ("legacy role in title case", {"contributors": [Contributor("A", role="Author")]}, "contributors[0].role", "not a contributor role"),
    ("legacy role name with a hyphen", {"contributors": [Contributor("A", role="CO-INVESTIGATOR")]}, "contributors[0].role", "not a contributor role"),
    ("blank credit name", {"contributors": [Contributor(" ")]}, "contributors[0].credit_name", "must not be blank"),
    ("funded-by with an upper-case type", {"external_ids": _ids(ExternalId("doi", "10.1/x"), ExternalId("HANDLE", "1/2", "funded-by"))}, "external_ids[1].type", "did you mean 'handle'"),
    ("credit role without slash", {"contributors": [Contributor("A", role=SUPERVISION.rstrip("/"))]}, "contributors[0].role", "ending in a slash"),
    ("sequence", {"contributors": [Contributor("A", sequence="second")]}, "contributors[0].sequence", "not a contributor sequence"),
    ("long credit name", {"contributors": [Contributor("x" * 151)]}, "contributors[0].credit_name", "at most 150"),
    ("bad contributor iD", {"contributors": [Contributor("A", "0000-0002-1825-0098")]}, "contributors[0].orcid", "check digit"),
    ("contributor iD in lower case", {"contributors": [Contributor("A", "0000-0002-9079-593x")]}, "contributors[0].orcid", "bare iD '0000-0002-9079-593X'"),
    ("contributor iD as URI", {"contributors": [Contributor("A", "https://orcid.org/0000-0002-1825-0097")]}, "contributors[0].orcid", "bare iD"),
    ("empty contributor", {"contributors": [Contributor()]}, "contributors[0]", "credit_name or an ORCID iD"),
    ("put-code", {"put_code": -3}, "put_code", "positive"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "field", "says"), [r[1:] for r in WORK_RULES], ids=[r[0] for r in WORK_RULES])
def test_work_rules_name_the_field(changes, field, says):
    work = _work(**changes)
    with pytest.raises(ValidationError) as info:
        work.to_xml()
    assert info.value.field == field
    assert says in str(info.value)
    assert str(info.value).startswith(field)
    assert isinstance(info.value, ValueError) and isinstance(info.value, ORCIDError)


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "dataset"},  # an alias ORCID maps
        {"type": "supervised-student-publication"},
        {"external_ids": _ids(ExternalId("doi", "https://doi.org/10.1234/X"))},  # ORCID normalizes DOIs
        {"external_ids": _ids(ExternalId("doi", "10.1234/x"), ExternalId("grant_number", "G-1", "funded-by"))},
        {"publication_date": FuzzyDate(1900)},
        {"publication_date": FuzzyDate(2024, 2, 29)},
        {"language_code": "zh_TW"},
        {"contributors": [Contributor(orcid="0000-0002-9079-593X")]},
        # issue 12: what ORCID accepts and this library used to refuse
        {"external_ids": _ids(ExternalId("doi", "work:doi"))},  # ORCID only logs an unresolvable DOI (AV:237-245)
        {"type": "standard"},  # WorkType.java:91 maps it to standards-and-policy
        {"subtitle": " "},  # common:subtitle is not a non-empty-string
        {"short_description": ""},
        {"contributors": [Contributor("A", role="AUTHOR")]},  # the enum name (ContributorRoleConverterImpl:135-151)
        {"contributors": [Contributor("A", role="CHAIR_OR_TRANSLATOR")]},
        {"contributors": [Contributor("A", role="HTTP://CREDIT.NISO.ORG/CONTRIBUTOR-ROLES/SUPERVISION/")]},  # CreditRole.fromValue ignores case
        {"external_ids": _ids(ExternalId("doi", "10.1/x"), ExternalId("uri", "https://funder.example/g/1", "funded-by"))},
    ],
)
def test_things_orcid_accepts_pass(changes):
    _work(**changes).validate()


def test_all_problems_are_listed_on_the_error():
    with pytest.raises(ValidationError) as info:
        Work("", type="thesis", external_ids=[]).validate()
    fields = [name for name, _ in info.value.problems]  # type: ignore[attr-defined]
    assert fields == ["title", "type", "external_ids"]
    assert "and 2 more" in str(info.value)


AFFILIATION_RULES = [
    ("no organization", "education", {"organization": None}, "organization", "requires the organization"),
    ("no org id", "education", {"organization": Organization("U", "C", None, "US")}, "organization.disambiguated_id", "ROR"),
    ("no city", "employment", {"organization": Organization("U", None, None, "US", ROR_OXFORD, "ROR")}, "organization.city", "city"),
    ("no country", "education", {"organization": Organization("U", "C", None, None, ROR_OXFORD, "ROR")}, "organization.country", "country"),
    ("bad country", "education", {"organization": Organization("U", "C", None, "GBR", ROR_OXFORD, "ROR")}, "organization.country", "alpha-2"),
    ("unknown source", "education", {"organization": Organization("U", "C", None, "US", "Q123", "WIKIDATA")}, "organization.disambiguation_source", "not a disambiguation source"),
    ("lower-case source", "education", {"organization": Organization("U", "C", None, "US", ROR_OXFORD, "ror")}, "organization.disambiguation_source", "did you mean 'ROR'"),
    ("bare ROR id", "education", {"organization": Organization("U", "C", None, "US", "052gg0110", "ROR")}, "organization.disambiguated_id", "https://ror.org/052gg0110"),
    ("id without source", "service", {"organization": Organization("U", "C", None, "US", ROR_OXFORD)}, "organization.disambiguation_source", "give both"),
    ("nothing identifies a distinction", "distinction", {"organization": Organization("U", "C", None, "US"), "external_ids": []}, "organization.disambiguated_id", "disambiguated organization or external ids"),
    ("no org nor ids", "membership", {"organization": None, "external_ids": []}, "organization", "requires the organization"),
    *[(f"{s} without organization", s, {"organization": None}, "organization", "requires the organization") for s in ("qualification", "service", "membership", "invited-position", "distinction")],
    ("partial start after year end", "education", {"start_date": FuzzyDate(2020, 5), "end_date": FuzzyDate(2020)}, "end_date", "2020-05 is after an end of 2020"),
    ("partial start after year end, service", "service", {"start_date": FuzzyDate(2020, 5, 2), "end_date": FuzzyDate(2020, 5)}, "end_date", "before it starts"),
    ("city without country", "service", {"organization": Organization("U", "C", None, None, ROR_OXFORD, "ROR")}, "organization.country", "when a city or region"),
    ("end before start", "education", {"start_date": FuzzyDate(2024, 7), "end_date": FuzzyDate(2024, 6, 30)}, "end_date", "before it starts"),
    ("bad end date", "employment", {"end_date": FuzzyDate(2024, 4, 31)}, "end_date", "no day 31"),
    ("unknown section", "award", {}, "section", "not one of"),
    ("blank department", "education", {"department": ""}, "department", "must not be blank"),
    ("long role", "education", {"role_title": "x" * 4001}, "role_title", "at most 4000"),
    ("blank id value", "qualification", {"external_ids": [ExternalId("uri", " ")]}, "external_ids[0].value", "requires the identifier value"),
    ("bad id relationship", "qualification", {"external_ids": [ExternalId("uri", "https://x.org/1", "is-self")]}, "external_ids[0].relationship", "not a relationship"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("section", "changes", "field", "says"), [r[1:] for r in AFFILIATION_RULES], ids=[r[0] for r in AFFILIATION_RULES]
)
def test_affiliation_rules_name_the_field(section, changes, field, says):
    item = affiliation(section, **changes)
    with pytest.raises(ValidationError) as info:
        item.to_xml()
    assert info.value.field == field
    assert says in str(info.value)


@pytest.mark.parametrize(
    ("section", "changes"),
    [
        ("education", {"start_date": FuzzyDate(2024), "end_date": FuzzyDate(2024, 1)}),  # partial dates
        ("education", {"start_date": FuzzyDate(2019), "end_date": None}),  # in progress
        ("education", {"external_ids": []}),
        ("employment", {"organization": Organization("Oxford", "Oxford", None, "GB", "385488", "RINGGOLD")}),
        ("employment", {"organization": Organization("Org", "Paris", None, "FR", "grid.455335.1", "GRID")}),
        ("service", {"organization": Organization("NSF", "Alexandria", None, "US", "http://dx.doi.org/10.13039/100000001", "FUNDREF")}),
        ("membership", {"organization": Organization("Society")}),  # identified by its external id
        # issue 12: what ORCID accepts and this library used to refuse
        ("education", {"start_date": None}),  # an end date alone: a degree known by its award year
        ("employment", {"start_date": None, "end_date": FuzzyDate(2020)}),
        ("education", {"start_date": FuzzyDate(2020), "end_date": FuzzyDate(2020, 5)}),
        ("qualification", {"external_ids": [ExternalId("uri", "https://x.org/1", None)]}),  # no relationship
        ("qualification", {"external_ids": [ExternalId("isbn13", "x", "funded-by")]}),  # any type (AV:447-480)
    ],
)
def test_affiliations_orcid_accepts_pass(section, changes):
    affiliation(section, **changes).validate()


# --- dict round-trip and reading back what we wrote ----------------------------------------------

ITEMS = {
    **{name: build for name, build in WORKS.items()},
    **{section: (lambda s=section: affiliation(s)) for section in Affiliation.SECTIONS},
}


@pytest.mark.parametrize("build", ITEMS.values(), ids=ITEMS.keys())
def test_to_dict_is_json_and_round_trips_exactly(build):
    item = dataclasses.replace(build(), put_code=321, visibility="limited")
    data = item.to_dict()
    stored = json.loads(json.dumps(data))
    assert stored == data
    assert type(item).from_dict(stored) == item
    assert item_from_dict(stored) == item
    assert stored["kind"] == item.kind


def test_to_dict_shape_is_plain():
    data = full_thesis().to_dict()
    assert data["publication_date"] == "2024-06-30"
    assert data["external_ids"][0] == {
        "type": "handle",
        "value": "20.500.12345/6789",
        "relationship": "self",
        "url": "https://hdl.handle.net/20.500.12345/6789",
    }
    assert data["contributors"][1]["role"] == SUPERVISION


def test_from_dict_refuses_what_it_does_not_know():
    with pytest.raises(ValueError, match="unknown key"):
        Work.from_dict({**minimal_work().to_dict(), "colour": "red"})
    with pytest.raises(ValueError, match="kind"):
        Work.from_dict(affiliation("education").to_dict())
    with pytest.raises(ValueError, match="unknown kind"):
        item_from_dict({"kind": "peer-review"})


@pytest.mark.parametrize("build", WORKS.values(), ids=WORKS.keys())
def test_work_read_back_from_its_xml_is_the_same_work(build):
    work = build()
    assert parse_work(work.to_xml(put_code=55)) == dataclasses.replace(work, put_code=55)


@pytest.mark.parametrize("section", Affiliation.SECTIONS)
def test_affiliation_read_back_from_its_xml_is_the_same(section):
    item = affiliation(section)
    assert parse_affiliation(item.to_xml(put_code=8)) == dataclasses.replace(item, put_code=8)


def test_project_examples_read_validate_and_rewrite(orcid_examples_dir, orcid_model_dir):
    thesis = parse_work((orcid_examples_dir / "thesis-work-3.0.xml").read_bytes())
    thesis.validate()
    assert thesis.type == "dissertation-thesis"
    assert thesis.self_ids() == {("handle", "20.500.12345/6789"), ("doi", "10.1234/example.thesis.2024")}
    assert_schema_valid(orcid_model_dir, "work-3.0.xsd", thesis.to_xml())
    degree = parse_affiliation((orcid_examples_dir / "degree-education-3.0.xml").read_bytes())
    degree.validate()
    assert degree.organization.disambiguated_id == ROR_OXFORD
    assert parse_affiliation(degree.to_xml()) == degree


# --- identity and dates --------------------------------------------------------------------------


def test_self_ids_are_normalized_and_skip_other_relationships():
    work = Work(
        "T",
        external_ids=[
            ExternalId("doi", "https://doi.org/10.1234/ABC"),
            ExternalId("handle", "20.500.1/XyZ"),
            ExternalId("isbn", "978-3-16-148410-0", "part-of"),
        ],
    )
    assert work.self_ids() == {("doi", "10.1234/abc"), ("handle", "20.500.1/xyz")}
    assert work.kind == "work"
    assert affiliation("invited-position").kind == "invited-position"


def test_fuzzy_dates():
    assert str(FuzzyDate(2024)) == "2024"
    assert str(FuzzyDate(2024, 6)) == "2024-06"
    assert str(FuzzyDate(2024, 6, 1)) == "2024-06-01"
    assert FuzzyDate.parse("2024-06") == FuzzyDate(2024, 6)
    assert FuzzyDate.parse(" 2024-6-3 ") == FuzzyDate(2024, 6, 3)
    assert FuzzyDate.from_date(datetime.date(2024, 6, 30)) == FuzzyDate(2024, 6, 30)
    assert FuzzyDate.from_date(datetime.datetime(2024, 6, 30, 12)) == FuzzyDate(2024, 6, 30)
    for bad in ("June 2024", "2024-13", "2023-02-29", "24-06", ""):
        with pytest.raises(ValueError):
            FuzzyDate.parse(bad)
    with pytest.raises(ValueError, match="needs a month"):
        FuzzyDate(2024, None, 3)
    with pytest.raises(ValueError, match="whole number"):
        FuzzyDate("2024")  # type: ignore[arg-type]


def test_model_names_are_exported_from_the_package():
    import flask_orcid
    import flask_orcid.protocol.xml_reader

    contract = """Work Affiliation Organization Contributor ExternalId FuzzyDate Record Person Email
    WorkSummary AffiliationSummary ErrorInfo parse_record parse_person parse_works parse_work
    parse_works_bulk_read parse_affiliations parse_affiliation parse_bulk_response parse_error""".split()
    for name in contract:
        assert name in flask_orcid.__all__
        home = flask_orcid.protocol.xml_reader if name.startswith("parse_") else flask_orcid.protocol.model
        assert getattr(flask_orcid, name) is getattr(home, name)

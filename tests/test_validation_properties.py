"""Issue 12: validate() agrees with ORCID's XSDs and with the emulator, over generated items.

For works and affiliations drawn from values near ORCID's rules (blank, too long, wrong case,
partial dates, legacy roles, ...):

- whatever validate() accepts, ORCID's XSD accepts and the emulator stores (201);
- whatever the emulator refuses with a validation code, validate() refuses, naming that field;
- whatever validate() refuses and the emulator stores is one of this library's own rules.

The client's checks and the emulator's share no code, so agreement here is evidence, not echo.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_orcid import Affiliation, Contributor, ExternalId, FuzzyDate, Organization, Work
from flask_orcid.protocol.validation import OWN_RULE
from flask_orcid.protocol.xml_writer import affiliation_element, serialize, work_element
from tests.test_emulator_api import XML, Api, error_of, user_token

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
    database=None,  # nothing written into the worktree
)
SECTIONS = ["education", "employment", "qualification", "distinction", "invited-position", "membership", "service"]
CREDIT = "http://credit.niso.org/contributor-roles/supervision/"


SELF_DOI = ExternalId("doi", "10.5555/x.1")
OXFORD = Organization("University of Oxford", "Oxford", "Oxfordshire", "GB", "https://ror.org/052gg0110", "ROR")

# Per field: values ORCID accepts, then values near a rule. An item is a valid one with zero to
# three fields changed to any of their values, so both outcomes are common.
ID_CHOICES = [
    SELF_DOI,
    ExternalId("handle", "20.500.12345/7"),
    ExternalId("uri", "example.org/t/1"),
    ExternalId("isbn", "978-3-16-148410-0", "part-of"),
    ExternalId("grant_number", "G-1", "funded-by"),
    ExternalId("doi", "work:doi"),
    ExternalId("handle", "hdl:20.500.12345/8"),
    ExternalId("isbn13", "9783161484100"),
    ExternalId("DOI", "10.5555/x.2"),
    ExternalId("handle", "20.500.1/2", "funded-by"),
    ExternalId("doi", " "),
    ExternalId("uri", "https://example.org/t/2", None),
    ExternalId("doi", "10.5555/x.3", "is-self"),
    ExternalId("doi", "10.5555/x.4", url="example.org/landing"),
]
CONTRIBUTOR_CHOICES = [
    Contributor("A. Researcher", "0000-0002-1825-0097", "first", "author"),
    Contributor("B. Researcher", role="AUTHOR"),
    Contributor("C. Researcher", role=CREDIT.upper()),
    Contributor(orcid="0000-0002-9079-593X", sequence="additional", role="CO_INVESTIGATOR"),
    Contributor("D", role="Author"),
    Contributor("E", role="supervisor"),
    Contributor(" "),
    Contributor("x" * 151),
    Contributor("F", "0000-0002-1825-0098"),
    Contributor("G", "0000-0002-9079-593x"),
    Contributor("H", sequence="second"),
    Contributor(),
]
WORK_FIELDS: dict[str, list[Any]] = {
    "title": ["Tesis sobre el niño", " ", "x" * 1001],
    "type": ["journal-article", "standard", "dataset", "thesis", "Book"],
    "subtitle": [None, "Models", "", " ", "x" * 1001],
    "translated_title": [("Título", "es"), ("Título", "iw"), ("Título", "he"), (" ", "es"), ("Título", None), (None, "es")],
    "journal_title": [None, "Journal", " "],
    "short_description": [None, "", "About it", "x" * 5001],
    "citation": [None, ("bibtex", "@phdthesis{a}"), ("bibtex", " "), ("apa", "x"), (None, "x"), ("ris", None)],
    "publication_date": [None, FuzzyDate(2024, 6), FuzzyDate(2024, 2, 30), FuzzyDate(1899)],
    "external_ids": [[SELF_DOI, x] for x in ID_CHOICES] + [[x] for x in ID_CHOICES] + [[]],
    "url": [None, "https://example.org/thesis/1", "thesis/1", "https://example.org/a#b#c"],
    "contributors": [[x] for x in CONTRIBUTOR_CHOICES],
    "language_code": [None, "en", "in", "id", "english"],
    "country": [None, "US", "us", "USA"],
}
AFFILIATION_FIELDS: dict[str, list[Any]] = {
    "organization": [
        None,
        Organization("University of Oxford", None, None, "GB", "https://ror.org/052gg0110", "ROR"),
        Organization("University of Oxford", "Oxford", None, None, "https://ror.org/052gg0110", "ROR"),
        Organization("Thesis Prize Society"),
        Organization("Thesis Prize Society", "Oxford"),
        Organization("Thesis Prize Society", "Oxford", None, "GB"),
        Organization(" ", "Oxford", None, "GB", "https://ror.org/052gg0110", "ROR"),
        Organization("Oxford", "Oxford", None, "GBR", "https://ror.org/052gg0110", "ROR"),
        Organization("Oxford", " ", None, "GB", "https://ror.org/052gg0110", "ROR"),
    ],
    "department": [None, "Engineering", " ", "x" * 4001],
    "role_title": [None, "PhD", ""],
    "start_date": [None, FuzzyDate(2020, 5), FuzzyDate(2020), FuzzyDate(2019, 2, 30), FuzzyDate(2025)],
    "end_date": [None, FuzzyDate(2020), FuzzyDate(2020, 5, 1), FuzzyDate(2101)],
    "url": [None, "https://example.org/degree", "degree"],
    "external_ids": [[], [ExternalId("uri", "https://example.org/d/1", None)], [ExternalId("isbn13", "x", "funded-by")],
                     [ExternalId("uri", " ")], [ExternalId("uri", "https://example.org/d/2", "is-self")]],
}


@st.composite
def works(draw: st.DrawFn) -> Work:
    work = Work("A thesis", publication_date=FuzzyDate(2024), external_ids=[SELF_DOI])
    for name in draw(st.lists(st.sampled_from(sorted(WORK_FIELDS)), max_size=3, unique=True)):
        value = draw(st.sampled_from(WORK_FIELDS[name]))
        if name == "translated_title":
            work.translated_title, work.translated_title_language = value
        elif name == "citation":
            work.citation_type, work.citation_value = value or (None, None)
        else:
            setattr(work, name, value)
    return work


@st.composite
def affiliations(draw: st.DrawFn) -> Affiliation:
    item = Affiliation(draw(st.sampled_from(SECTIONS)), OXFORD, start_date=FuzzyDate(2019), end_date=FuzzyDate(2024))
    for name in draw(st.lists(st.sampled_from(sorted(AFFILIATION_FIELDS)), max_size=3, unique=True)):
        setattr(item, name, draw(st.sampled_from(AFFILIATION_FIELDS[name])))
    return item


# The field(s) each of ORCID's validation codes is about (the emulator's README table).
CODE_FIELDS: dict[int, tuple[str, ...]] = {
    9022: ("title",),
    9023: ("external_ids",),
    9020: ("contributors", "citation_value", "external_ids"),
    9058: ("contributors",),
    9049: ("publication_date", "start_date", "end_date"),
    9055: ("end_date",),
    9046: ("organization",),
    9045: ("organization",),
    9060: ("organization",),
    9061: ("organization",),
    9062: ("organization",),
    9037: ("type", "country", "translated_title", "citation_type", "citation_value"),
}
# XSD (9012), enum (9051) and JSON (9047) errors name the element or the Java enum.
XSD_FIELDS = {
    "WorkType": "type",
    "LanguageCode": ("language_code", "translated_title"),
    "Iso3166Country": ("country", "organization.country"),
    "CitationType": "citation_type",
    "Relationship": "external_ids",
    "SequenceType": "contributors",
    "of title": "title",
    "of subtitle": "subtitle",
    "translated-title": "translated_title",
    "journal-title": "journal_title",
    "short-description": "short_description",
    "credit-name": "contributors",
    "department-name": "department",
    "role-title": "role_title",
    "of name": "organization.name",
    "of city": "organization.city",
    "(external-id-url)": "external_ids",
    "of external-id-": "external_ids",
    "(url)": "url",
    "of region": "organization.region",
}


def _fields_named(code: int, text: str) -> tuple[str, ...]:
    if code in CODE_FIELDS:
        return CODE_FIELDS[code]
    for marker, names in XSD_FIELDS.items():
        if marker in text:
            return (names,) if isinstance(names, str) else names
    raise AssertionError(f"an emulator refusal this test cannot place: {code} {text[:300]}")


def _xml(item: Work | Affiliation) -> bytes:
    element = work_element(item, None) if isinstance(item, Work) else affiliation_element(item, None)
    return serialize(element)


@pytest.fixture
def api(emulator):
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    return Api(emulator, user_token(emulator))


def _check(api: Api, schemas: Any, item: Work | Affiliation) -> None:
    problems = item.problems()
    body = _xml(item)
    section = "work" if isinstance(item, Work) else item.section
    answer = api.post(f"/{section}", body, XML)
    if answer.status_code == 201:  # leave nothing behind for the next example's duplicate check
        assert api.delete(answer.headers["Location"].split(api.base, 1)[1]).status_code == 204
    if not problems:
        schemas.validate(body)
        assert answer.status_code == 201, f"validate() accepted what the emulator refused: {answer.text[:500]}"
    elif answer.status_code == 201:
        ours = [message for _, message in problems if OWN_RULE not in message]
        assert not ours, f"validate() refused what ORCID accepts: {ours}"
    else:
        status, code = error_of(answer)
        assert status in (400, 409), answer.text
        if code == 9021:  # a duplicate of an earlier example: not a validation code
            return
        names = _fields_named(code, answer.text)
        fields = [name for name, _ in problems]
        assert any(f.startswith(names) for f in fields), (code, answer.text[:300], problems)


@SETTINGS
@given(work=works())
def test_works_validate_as_orcid_and_the_emulator_do(api, orcid_schemas, work):
    _check(api, orcid_schemas, work)


@SETTINGS
@given(item=affiliations())
def test_affiliations_validate_as_orcid_and_the_emulator_do(api, orcid_schemas, item):
    _check(api, orcid_schemas, item)


def test_the_properties_see_both_outcomes(api, orcid_schemas):
    """The generators reach accepted and refused items (a guard against a vacuous property)."""
    good = Affiliation("education", Organization("University of Oxford", "Oxford", None, "GB", "https://ror.org/052gg0110", "ROR"), end_date=FuzzyDate(2020))
    bad = Affiliation("service", None, external_ids=[ExternalId("uri", "https://example.org/1")])
    assert not good.problems() and bad.problems()
    _check(api, orcid_schemas, good)
    _check(api, orcid_schemas, bad)
    assert re.search("organization", bad.problems()[0][0])


# The duplicate pre-check (issue 12, divergence 8): the client's key agrees with ORCID's 9021.
SAME_OR_NOT = [
    ("doi", "10.5555/Dup.1", "https://doi.org/10.5555/dup.1"),
    ("doi", "10.5555/dup.2", "10.5555/dup.3"),
    ("uri", "https://example.org/Thesis", "https://example.org/thesis"),  # uri is case-sensitive
    ("uri", "example.org/t/9", "http://example.org/t/9"),
    ("isbn", "978-3-16-148410-0", "9783161484100"),
    ("issn", "0317-8471", "issn 03178471"),
    ("pmid", "PMID: 123456", "123456"),
    ("pmc", "PMC1234567", "1234567"),
    ("arxiv", "arXiv:1501.00001", "1501.00001"),
    ("handle", "20.500.12345/AbC", "20.500.12345/abc"),
    ("rrid", "RRID:AB_123456", "AB_123456"),
    ("ark", "ark:/1234/Ab", "ark:/1234/ab"),
]


@pytest.mark.parametrize(("kind", "first", "second"), SAME_OR_NOT)
def test_duplicate_precheck_agrees_with_orcids_9021(api, kind, first, second):
    def post(value: str) -> Any:
        body = _xml(Work("A thesis", type="journal-article", external_ids=[ExternalId(kind, value)]))
        return api.post("/work", body, XML)

    client_says_same = ExternalId(kind, first).key() == ExternalId(kind, second).key()
    assert post(first).status_code == 201
    answer = post(second)
    assert (answer.status_code == 409) == client_says_same, (answer.status_code, answer.text[:300])

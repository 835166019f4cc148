"""Reading ORCID's v3.0 documents: the official read samples, error bodies, and odd records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flask_orcid import (
    Affiliation,
    ErrorInfo,
    ExternalId,
    FuzzyDate,
    Record,
    Work,
    XMLError,
    parse_affiliation,
    parse_affiliations,
    parse_bulk_response,
    parse_error,
    parse_person,
    parse_record,
    parse_work,
    parse_works,
    parse_works_bulk_read,
)


@pytest.fixture(scope="module")
def samples(orcid_model_dir: Path) -> Path:
    return orcid_model_dir / "record_3.0" / "samples" / "read_samples"


def read(samples: Path, name: str) -> bytes:
    return (samples / name).read_bytes()


def test_record_sample(samples):
    record = parse_record(read(samples, "record-3.0.xml"))
    assert record.orcid == "8888-8888-8888-8880"
    assert (record.given_names, record.family_name, record.credit_name) == (
        "give-names",
        "family-name",
        "credit-name",
    )
    assert record.other_names == ["other-name-1"]
    assert [(e.email, e.visibility) for e in record.emails] == [("user1@email.com", "public")]

    (education,) = record.educations
    assert education.put_code == 0
    assert education.section == "education"
    assert education.organization.name == "education-org"
    assert education.organization.city == "common:city"
    assert education.organization.country == "AF"
    assert education.organization.disambiguated_id == "common:disambiguated-organization-identifier-education"
    assert education.organization.disambiguation_source == "GRID"
    assert education.department == "education:department-name"
    assert education.role_title == "education:role-title"
    assert education.start_date == FuzzyDate(1948, 2, 2)
    assert education.end_date == FuzzyDate(2019, 1, 1)

    (employment,) = record.employments
    assert employment.organization.name == "employment-org"
    assert employment.end_date == FuzzyDate(2025)  # a year-only date

    (work,) = record.works
    assert work.put_code == 0
    assert work.title == "common:title"
    assert work.type == "artistic-performance"
    assert work.publication_date == FuzzyDate(1948, 2, 2)
    assert work.external_ids == [ExternalId("agr", "external-id-value", "self", "http://tempuri.org")]
    assert work.source_client_id == "8888-8888-8888-8880"
    assert work.visibility == "private"

    assert sorted(a.section for a in record.other_affiliations) == [
        "distinction",
        "invited-position",
        "membership",
        "qualification",
        "service",
    ]


def test_person_sample(samples):
    person = parse_person(read(samples, "person-3.0.xml"))
    assert person.given_names == "give-names"
    assert person.family_name == "family-name"
    assert person.credit_name == "credit-name"
    assert person.other_names == ["other-name-1"]
    assert [e.email for e in person.emails] == ["user1@email.com"]
    assert person.orcid is None  # this sample carries no path


def test_record_from_person_combines_the_parts(samples):
    person = parse_person(read(samples, "person-3.0.xml"))
    educations = parse_affiliations(read(samples, "educations-3.0.xml"))
    works = parse_works(read(samples, "works-3.0.xml"))
    record = Record.from_person(person, educations=educations, works=works)
    assert record.given_names == "give-names"
    assert record.educations == educations and record.works == works and record.employments == []


def test_works_sample_lists_every_group_member(samples):
    works = parse_works(read(samples, "works-3.0.xml"))
    assert [(w.put_code, w.title, w.type) for w in works] == [
        (3356, "Work # 0", "conference-paper"),
        (3357, "Work # 1", "conference-paper"),
        (3358, "Work # 2", "journal-article"),
    ]
    first = works[0]
    assert first.publication_date == FuzzyDate(2017, 3, 3)
    assert first.external_ids == [ExternalId("doi", "123456", "part-of", "https://doi.org/123456")]
    assert first.self_ids() == set()
    assert works[1].self_ids() == {("arxiv", "123456")}
    assert first.source_name == "User One Credit name"
    assert first.source_client_id is None  # added by the researcher, not a client
    assert first.url == "http://tempuri.org"
    assert first.visibility == "public"


def test_full_work_sample(samples):
    work = parse_work(read(samples, "work-full-3.0.xml"))
    assert work.put_code == 123
    assert work.visibility == "private"
    assert work.title == "common:title"
    assert work.subtitle == "common:subtitle"
    assert (work.translated_title, work.translated_title_language) == ("common:translated-title", "en")
    assert work.journal_title == "common:journal-title"
    assert work.short_description == "work:short-description"
    assert (work.citation_type, work.citation_value) == ("formatted-unspecified", "work:citation")
    assert work.type == "artistic-performance"
    assert work.publication_date == FuzzyDate(1948, 2, 2)
    assert [(x.type, x.relationship) for x in work.external_ids] == [("agr", "version-of"), ("doi", "self")]
    assert work.url == "http://tempuri.org"
    (person,) = work.contributors
    assert (person.credit_name, person.orcid, person.sequence, person.role) == (
        "work:credit-name",
        "8888-8888-8888-8880",
        "first",
        "author",
    )
    assert (work.language_code, work.country) == ("en", "AF")


@pytest.mark.parametrize(
    ("document", "section"),
    [
        ("educations-3.0.xml", "education"),
        ("employments-3.0.xml", "employment"),
        ("distinctions-3.0.xml", "distinction"),
        ("invited-positions-3.0.xml", "invited-position"),
        ("memberships-3.0.xml", "membership"),
        ("qualifications-3.0.xml", "qualification"),
        ("services-3.0.xml", "service"),
    ],
)
def test_affiliation_summaries_of_every_section(samples, document, section):
    items = parse_affiliations(read(samples, document))
    assert len(items) == 2
    first = items[0]
    assert first.section == section
    assert first.put_code == 1
    assert first.organization.name == section
    assert first.start_date == FuzzyDate(1948, 2, 2)
    assert first.source_name == "User One Credit name"
    assert first.visibility == "public"


def test_education_summary_details(samples):
    first = parse_affiliations(read(samples, "educations-3.0.xml"))[0]
    assert first.department == "education"
    assert first.role_title == "employment:role-title"
    assert (first.organization.city, first.organization.country) == ("x", "AS")
    assert first.organization.disambiguated_id is None


@pytest.mark.parametrize(
    "section",
    ["education", "employment", "qualification", "distinction", "invited-position", "membership", "service"],
)
def test_single_affiliation_of_every_section(samples, section):
    item = parse_affiliation(read(samples, f"{section}-3.0.xml"))
    assert isinstance(item, Affiliation)
    assert item.section == section
    assert item.kind == section


def test_full_education_sample(samples):
    item = parse_affiliation(read(samples, "education-full-3.0.xml"))
    assert item.put_code == 0
    assert item.organization.name == "common:name"
    assert item.organization.region == "common:region"
    assert item.url == "http://tempuri.org"
    assert [(x.type, x.value) for x in item.external_ids] == [
        ("grant_number", "external-identifier-value"),
        ("grant_number", "external-identifier-value2"),
    ]


def test_employment_full_sample_keeps_the_ror_uri(samples):
    item = parse_affiliation(read(samples, "employment-full-3.0.xml"))
    assert item.organization.disambiguated_id == "https://ror.org/021nxhr62"


def test_professional_activities_without_address(samples):
    record = parse_record(read(samples, "record-no-city-country-for-professional-activities-3.0.xml"))
    by_section = {a.section: a for a in record.other_affiliations}
    assert by_section["qualification"].organization.city is None
    assert by_section["qualification"].organization.country is None
    assert by_section["distinction"].organization is None


def test_bulk_response_keeps_slot_order(samples):
    created, failed = parse_bulk_response(read(samples, "bulk-work-err.xml"))
    assert isinstance(created, Work)
    assert created.put_code == 156043
    assert created.title == "Current treatment of left main coronary artery disease # 1"
    assert created.self_ids() == {("doi", "10.1016/j.crvasa.2015.05.007")}
    assert isinstance(failed, ErrorInfo)
    assert (failed.status, failed.error_code) == (400, 9037)
    assert failed.user_message == "Please specify a work type."
    assert failed.developer_message.startswith("Invalid work type")


def test_bulk_read_returns_the_works_found(samples):
    works = parse_works_bulk_read(read(samples, "bulk-work-err.xml"))
    assert [w.put_code for w in works] == [156043]


def test_error_sample(samples):
    info = parse_error(read(samples, "error-3.0.xml"), "application/vnd.orcid+xml")
    assert info == ErrorInfo(0, 0, "error:developer-message", "error:user-message", "http://tempuri.org")


# --- error bodies seen on the wire (API-FACTS §7) ------------------------------------------------

DUPLICATE_409 = {
    "response-code": 409,
    "developer-message": "409 Conflict: You have already added this activity (matched by external "
    "identifiers), please see element with put-code 1234567. If you are trying to edit the item, "
    "please use PUT instead of POST.",
    "user-message": "There was an error when updating the record.",
    "error-code": 9021,
    "more-info": "https://members.orcid.org/api/resources/troubleshooting",
}


def test_json_error_body_and_the_existing_put_code():
    info = parse_error(json.dumps(DUPLICATE_409).encode(), "application/vnd.orcid+json;charset=UTF-8")
    assert (info.status, info.error_code) == (409, 9021)
    assert info.existing_put_code == 1234567
    assert info.more_info == "https://members.orcid.org/api/resources/troubleshooting"


def test_duplicate_without_a_put_code_gives_none():
    body = {**DUPLICATE_409, "developer-message": "409 Conflict: You have already added this activity"}
    assert parse_error(json.dumps(body).encode(), "application/json").existing_put_code is None


def test_xml_error_body_from_the_api():
    body = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
    <error:error xmlns:error="http://www.orcid.org/ns/error">
      <error:response-code>404</error:response-code>
      <error:developer-message>404 Not Found: The resource was not found.</error:developer-message>
      <error:user-message>The resource was not found.</error:user-message>
      <error:error-code>9016</error:error-code>
      <error:more-info>https://members.orcid.org/api/resources/troubleshooting</error:more-info>
    </error:error>"""
    info = parse_error(body, "application/vnd.orcid+xml")
    assert (info.status, info.error_code, info.user_message) == (404, 9016, "The resource was not found.")
    assert info.developer_message == "404 Not Found: The resource was not found."


def test_oauth_401_body_never_keeps_the_token():
    token = "f5af9f51-07e6-4332-8f1a-c0c11c1e3728"
    body = json.dumps({"error": "invalid_token", "error_description": f"Invalid access token: {token}"})
    info = parse_error(body.encode(), "application/json")
    assert info.error == "invalid_token"
    assert token not in repr(info)
    assert info.developer_message == "Invalid access token: [redacted]"


def test_oauth_403_body():
    body = b'{"error":"forbidden","error_description":"Insufficient scope for this resource"}'
    info = parse_error(body, "application/json")
    assert (info.error, info.developer_message) == ("forbidden", "Insufficient scope for this resource")


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b"<html><body><h1>Oops an error happened!</h1></body></html>", "text/html", "Oops an error happened!"),
        (b"Too Many Requests. You have exceeded the daily quota", "text/plain", "Too Many Requests"),
        (b"", None, None),
        (b"{not json", "application/json", "{not json"),
        (b'<!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]><x>&a;</x>', "application/xml", "could not be read safely"),
    ],
)
def test_other_error_bodies_become_a_short_message(body, content_type, says):
    info = parse_error(body, content_type)
    assert info.status is None and info.error_code is None
    if says is None:
        assert info.developer_message is None
    else:
        assert says in info.developer_message
        assert len(info.developer_message) <= 500


def test_deprecated_record_names_the_primary_orcid():
    body = json.dumps(
        {
            "response-code": 301,
            "developer-message": "301 Moved Permanently: This account is deprecated. Please refer to "
            "account: https://orcid.org/0000-0002-9079-593X",
            "error-code": 9007,
        }
    ).encode()
    info = parse_error(body, "application/json")
    assert info.error_code == 9007
    assert info.primary_orcid == "0000-0002-9079-593X"


# --- lenient about content, strict about kind ----------------------------------------------------

RECORD_NS = (
    'xmlns:record="http://www.orcid.org/ns/record" xmlns:common="http://www.orcid.org/ns/common" '
    'xmlns:person="http://www.orcid.org/ns/person"'
)


def test_record_with_missing_sections_gives_empty_values():
    xml = f"""<record:record {RECORD_NS} path="/0000-0002-1825-0097">
      <person:person/>
    </record:record>""".encode()
    record = parse_record(xml)
    assert record.orcid == "0000-0002-1825-0097"
    assert record.given_names is None
    assert (record.emails, record.other_names, record.works, record.educations, record.employments) == (
        [], [], [], [], [],
    )  # fmt: skip


def test_unknown_elements_are_ignored():
    xml = b"""<work:work xmlns:work="http://www.orcid.org/ns/work" xmlns:common="http://www.orcid.org/ns/common"
      xmlns:future="http://www.orcid.org/ns/future" put-code="7">
      <future:sparkle>new in v4</future:sparkle>
      <work:title><common:title>Kept</common:title><future:extra/></work:title>
      <work:type>dissertation-thesis</work:type>
      <work:contributors><work:contributor><future:x/></work:contributor></work:contributors>
    </work:work>"""
    work = parse_work(xml)
    assert (work.title, work.type, work.put_code) == ("Kept", "dissertation-thesis", 7)
    assert work.external_ids == []


def test_email_flags_are_read():
    xml = b"""<person:person xmlns:person="http://www.orcid.org/ns/person"
      xmlns:email="http://www.orcid.org/ns/email" path="/0000-0002-1825-0097">
      <email:emails>
        <email:email primary="true" verified="true" visibility="limited"><email:email>josiah@example.edu</email:email></email:email>
        <email:email primary="false" verified="false" visibility="public"><email:email>jc@example.org</email:email></email:email>
      </email:emails>
    </person:person>"""
    person = parse_person(xml)
    assert person.orcid == "0000-0002-1825-0097"
    assert [(e.email, e.primary, e.verified, e.visibility) for e in person.emails] == [
        ("josiah@example.edu", True, True, "limited"),
        ("jc@example.org", False, False, "public"),
    ]


def test_odd_dates_do_not_break_reading():
    xml = b"""<work:work xmlns:work="http://www.orcid.org/ns/work" xmlns:common="http://www.orcid.org/ns/common">
      <work:title><common:title>T</common:title></work:title><work:type>other</work:type>
      <common:publication-date><common:year>20xx</common:year></common:publication-date>
    </work:work>"""
    assert parse_work(xml).publication_date is None


@pytest.mark.parametrize(
    ("parser", "sample"),
    [
        (parse_work, "error-3.0.xml"),
        (parse_record, "work-full-3.0.xml"),
        (parse_person, "record-3.0.xml"),
        (parse_works, "educations-3.0.xml"),
        (parse_affiliations, "works-3.0.xml"),
        (parse_affiliation, "work-full-3.0.xml"),
        (parse_bulk_response, "error-3.0.xml"),
    ],
)
def test_a_document_of_the_wrong_kind_is_refused(samples, parser, sample):
    with pytest.raises(XMLError, match="Expected an ORCID"):
        parser(read(samples, sample))


def test_redaction_keeps_ordinary_words():
    body = b'{"error":"invalid_token","error_description":"The access token provided is expired"}'
    assert parse_error(body, "application/json").developer_message == "The access token provided is expired"

"""ORCID iDs, DOIs and handles as people type them (API-FACTS §5, §10)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField
from wtforms.validators import Optional

import flask_orcid
from flask_orcid import (
    ORCIDIdValidator,
    doi_key,
    external_id_key,
    is_valid_orcid_id,
    normalize_doi,
    normalize_handle,
    orcid_checksum,
    orcid_uri,
    parse_orcid_id,
)

# Check digits computed independently (weights 2^k mod 11) and, for the X, ORCID's worked example.
VALID = [
    "0000-0002-1825-0097",  # Josiah Carberry
    "0000-0002-9079-593X",  # check digit 10 -> X
    "0000-0001-5109-3700",
    "0009-0002-4857-3134",  # the newer 0009- block
    "0009-0001-3573-5213",
]


@pytest.mark.parametrize("orcid", VALID)
def test_valid_ids_come_back_unchanged(orcid):
    assert parse_orcid_id(orcid) == orcid
    assert is_valid_orcid_id(orcid)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("http://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("https://sandbox.orcid.org/0009-0002-4857-3134", "0009-0002-4857-3134"),
        ("HTTPS://ORCID.ORG/0000-0002-1825-0097/", "0000-0002-1825-0097"),
        ("orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("0000-0002-9079-593x", "0000-0002-9079-593X"),
        ("https://orcid.org/0000-0002-9079-593x", "0000-0002-9079-593X"),
        ("0000 0002 9079 593X", "0000-0002-9079-593X"),
        ("000000029079593X", "0000-0002-9079-593X"),
        ("  0000-0002-1825-0097\n", "0000-0002-1825-0097"),
    ],
)
def test_common_spellings_give_the_canonical_bare_id(text, expected):
    assert parse_orcid_id(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0000-0002-1825-0098", "check digit"),
        ("0000-0002-9079-5930", "should be 'X'"),
        ("0000-0002-1825-009", "has 15"),
        ("0000-0002-1825-00970", "has 17"),
        ("0000-0002-18A5-0097", "'A'"),
        ("0000-000X-1825-0097", "an X"),
        ("abcd-efgh-ijkl-mnop", "'A'"),
        ("", "Enter an ORCID iD"),
        ("https://example.org/0000-0002-1825-0097", "not an ORCID iD or an orcid.org link"),
        ("00-0000-0218-250097", "four groups of four"),
    ],
)
def test_invalid_ids_say_which_part_is_wrong(text, says):
    with pytest.raises(ValueError) as info:
        parse_orcid_id(text)
    assert says in str(info.value)
    assert not is_valid_orcid_id(text)


def test_the_check_digit_message_names_the_expected_character():
    with pytest.raises(ValueError, match="should be '7', not '8'"):
        parse_orcid_id("0000-0002-1825-0098")


def test_non_text_is_a_value_error_not_a_crash():
    with pytest.raises(ValueError, match="must be text"):
        parse_orcid_id(None)  # type: ignore[arg-type]


def test_checksum_of_the_first_fifteen_digits():
    assert orcid_checksum("000000021825009") == "7"
    assert orcid_checksum("0000-0002-9079-593") == "X"
    with pytest.raises(ValueError):
        orcid_checksum("12345")


def test_uri_follows_the_environment():
    assert orcid_uri("0000-0002-1825-0097") == "https://orcid.org/0000-0002-1825-0097"
    assert orcid_uri("0000000218250097", "sandbox") == "https://sandbox.orcid.org/0000-0002-1825-0097"
    assert (
        orcid_uri("0000-0002-1825-0097", "emulator", "http://127.0.0.1:5999/")
        == "http://127.0.0.1:5999/0000-0002-1825-0097"
    )
    with pytest.raises(ValueError):
        orcid_uri("0000-0002-1825-0098")


@pytest.mark.parametrize(
    "text",
    [
        "10.1234/Example.Thesis",
        "doi:10.1234/Example.Thesis",
        "DOI: 10.1234/Example.Thesis",
        "https://doi.org/10.1234/Example.Thesis",
        "http://dx.doi.org/10.1234/Example.Thesis",
        "https://doi.org/10.1234%2FExample.Thesis",
        "info:doi/10.1234/Example.Thesis",
    ],
)
def test_doi_forms_give_the_bare_doi_with_case_kept(text):
    assert normalize_doi(text) == "10.1234/Example.Thesis"
    assert doi_key(text) == "10.1234/example.thesis"


@pytest.mark.parametrize("text", ["", "11.1234/x", "10.12/x", "10.1234/", "https://example.org/10.1234/x"])
def test_non_dois_are_refused_with_an_example(text):
    with pytest.raises(ValueError, match="not a DOI"):
        normalize_doi(text)


@pytest.mark.parametrize(
    "text",
    [
        "20.500.12345/6789",
        "hdl:20.500.12345/6789",
        "info:hdl/20.500.12345/6789",
        "https://hdl.handle.net/20.500.12345/6789",
        "http://hdl.handle.net/20.500.12345%2F6789",
        "https://hdl.handle.net/20.500.12345/6789?locatt=view:pdf",
    ],
)
def test_handle_forms_give_the_bare_handle(text):
    assert normalize_handle(text) == "20.500.12345/6789"


@pytest.mark.parametrize("text", ["", "20.500.12345", "/6789", "https://example.org/20.500.1/2"])
def test_non_handles_are_refused(text):
    with pytest.raises(ValueError, match="not a handle"):
        normalize_handle(text)


def test_external_id_keys_follow_orcids_normalization():
    assert external_id_key("doi", "https://doi.org/10.1234/ABC") == ("doi", "10.1234/abc")
    assert external_id_key("handle", "20.500.1/AbC") == ("handle", "20.500.1/abc")
    assert external_id_key("uri", "example.org/Thesis") == ("uri", "http://example.org/Thesis")
    assert external_id_key("uri", "https://example.org/Thesis") == ("uri", "https://example.org/Thesis")


@pytest.mark.parametrize(
    ("kind", "value", "key"),
    [
        ("isbn", "ISBN 978-3-16-148410-0", "9783161484100"),
        ("issn", "0317-847x", "0317-847X"),
        ("pmid", "https://pubmed.ncbi.nlm.nih.gov/123456", "123456"),
        ("pmc", "PMC1234567", "1234567"),
        ("arxiv", "https://arxiv.org/abs/1501.00001v2", "arXiv:1501.00001v2"),
        ("rrid", "rrid:AB_123456", "RRID:AB_123456"),
        ("doi", "doi:10.1234/A&amp;B", "10.1234/a"),  # unescaped, then the DOI pattern stops at "&"
        ("ark", "ark:/1234/Ab", "ark:/1234/Ab"),  # case-sensitive type
        ("isbn", "12", "12"),  # not recognised: compared as sent
        ("uri", "ftp://Example.org/x", "ftp://Example.org/x"),
    ],
)
def test_external_id_keys_use_orcids_normalizers(kind, value, key):
    """ORCID-Source PIDNormalizationService and normalizers/*.java (issue 12, divergence 8)."""
    assert external_id_key(kind, value) == (kind, key)


class AdvisorForm(Form):
    advisor_orcid = StringField("Advisor ORCID iD", [Optional(), ORCIDIdValidator()])


def test_form_validator_accepts_good_ids_and_explains_bad_ones():
    def posted(value):
        return AdvisorForm(MultiDict({"advisor_orcid": value}))

    assert posted("https://orcid.org/0000-0002-9079-593x").validate()
    assert posted("").validate()
    form = posted("0000-0002-1825-0098")
    assert not form.validate()
    assert "check digit" in form.advisor_orcid.errors[0]


def test_form_validator_takes_a_custom_message():
    class Custom(Form):
        orcid = StringField("iD", [ORCIDIdValidator("Not an ORCID iD.")])

    form = Custom(MultiDict({"orcid": "1234"}))
    assert not form.validate()
    assert form.orcid.errors == ["Not an ORCID iD."]


def test_identifier_helpers_are_exported():
    for name in ("parse_orcid_id", "orcid_uri", "normalize_doi", "doi_key", "normalize_handle", "ORCIDIdValidator"):
        assert name in flask_orcid.__all__

"""Issue 12: the emulator answers as ORCID's own source does (status and error code on the wire).

Each case names the ORCID-Source (or orcid-model) file the expected answer comes from.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.test_emulator_api import (
    CALLBACK,
    CARBERRY,
    JSON,
    NS,
    XML,
    Api,
    error_of,
    item_path,
    put_code_of,
    user_token,
    work_xml,
)

WRITE = Path("record_3.0") / "samples" / "write_samples"


@pytest.fixture
def api(emulator):
    return Api(emulator, user_token(emulator))


@pytest.fixture
def sample(orcid_model_dir):
    def load(name: str) -> etree._Element:
        return etree.parse(str(orcid_model_dir / WRITE / name)).getroot()
    return load


def _find(root, path):
    return root.find(path, NS)


def _drop(root, path):
    el = _find(root, path)
    el.getparent().remove(el)
    return root


def _text(root, path, text):
    _find(root, path).text = text
    return root


def _post(api, section, root, media=XML):
    body = etree.tostring(root) if media == XML else json.dumps(root)
    return api.post(f"/{section}", body, media)


# -- 1, 2: affiliation dates (ActivityValidator.java:447-480, FuzzyDateUtils.java:36-51) ----------
def test_affiliation_with_only_an_end_date_is_accepted(api, sample):
    root = _drop(sample("education-3.0.xml"), "common:start-date")
    assert _post(api, "education", root).status_code == 201
    root = _drop(sample("employment-3.0.xml"), "common:start-date")
    assert _post(api, "employment", root).status_code == 201


def test_partial_dates_compare_as_padded_strings(api, sample, orcid_schemas):
    root = sample("education-3.0.xml")
    start, end = _find(root, "common:start-date"), _find(root, "common:end-date")
    for date, parts in ((start, ("2020", "05")), (end, ("2020",))):
        for child in list(date):
            date.remove(child)
        for tag, text in zip(("year", "month"), parts, strict=False):
            etree.SubElement(date, f"{{{NS['common']}}}{tag}").text = text
    assert error_of(_post(api, "education", root), orcid_schemas) == (400, 9055)


# -- 3: LanguageCode enum (orcid-model common/LanguageCode.java:4) -------------------------------
@pytest.mark.parametrize("code, ok", [("iw", True), ("in", True), ("ji", True), ("mo", True),
                                      ("bh", True), ("zh_CN", True), ("he", False),
                                      ("id", False), ("yi", False), ("sh", False), ("zh", False)])
def test_language_codes_are_orcids_enum(api, sample, orcid_schemas, code, ok):
    root = _text(sample("work-full-3.0.xml"), "common:language-code", code)
    response = _post(api, "work", root)
    assert response.status_code == 201 if ok else error_of(response, orcid_schemas) == (400, 9051)


# -- 4: content negotiation -----------------------------------------------------------------------
def test_json_request_with_any_accept_gets_json(emulator, api):
    for accept in ("*/*", None):
        headers = {"Authorization": f"Bearer {api.token}", "Content-Type": JSON}
        if accept:
            headers["Accept"] = accept
        response = requests.post(api.base + "/work", data=json.dumps({"type": "book"}),
                                 headers=headers, timeout=10)
        assert response.status_code == 400
        assert "json" in response.headers["Content-Type"]
        assert response.json()["error-code"] == 9022


def test_json_put_with_any_accept_gets_json(api, sample, orcid_model_dir):
    doc = json.loads((orcid_model_dir / WRITE / "work-full-3.0.json").read_text())
    put_code = put_code_of(api.post("/work", json.dumps(doc), JSON))
    doc["put-code"] = put_code
    response = requests.put(api.base + item_path("work", put_code), data=json.dumps(doc),
                            headers={"Authorization": f"Bearer {api.token}", "Accept": "*/*",
                                     "Content-Type": JSON}, timeout=10)
    assert response.status_code == 200
    assert response.json()["put-code"] == put_code


# -- 5: 9046 for professional activities (ActivityValidator.java:399-408) -------------------------
@pytest.mark.parametrize("section", ["qualification", "service", "membership",
                                     "invited-position", "distinction"])
def test_professional_activity_without_organization_gets_9046(api, sample, orcid_schemas,
                                                              section):
    root = _drop(sample(f"{section}-3.0.xml"), "common:organization")
    assert error_of(_post(api, section, root), orcid_schemas) == (400, 9046)


# -- 6: enums (OrcidValidationJaxbContextResolver.java:321-333; JSON: InvalidJSONException) --------
@pytest.mark.parametrize("path, value", [
    ("work:type", "dissertation"),
    ("common:language-code", "english"),
    ("common:country", "XX"),
    ("work:citation/work:citation-type", "harvard"),
    (".//common:external-id-relationship", "self-ish"),
    (".//work:contributor-sequence", "second"),
])
def test_bad_enum_in_xml_gets_9051(api, sample, orcid_schemas, path, value):
    root = _text(sample("work-full-3.0.xml"), path, value)
    assert error_of(_post(api, "work", root), orcid_schemas) == (400, 9051)


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(type="dissertation"),
    lambda d: d.update({"language-code": "english"}),
    lambda d: d.update(country={"value": "XX"}),
    lambda d: d["citation"].update({"citation-type": "harvard"}),
    lambda d: d["external-ids"]["external-id"][0].update({"external-id-relationship": "x"}),
    lambda d: d["contributors"]["contributor"][0]["contributor-attributes"].update(
        {"contributor-sequence": "second"}),
])
def test_bad_enum_in_json_gets_9047(api, orcid_model_dir, mutate):
    doc = json.loads((orcid_model_dir / WRITE / "work-full-3.0.json").read_text())
    mutate(doc)
    assert error_of(api.post("/work", json.dumps(doc), JSON)) == (400, 9047)


# -- 7: what the XSD refuses (common-3.0.xsd types; XML 9012, JSON 9047) --------------------------
@pytest.mark.parametrize("path, value", [
    ("common:department-name", "  "),                       # common:long-text
    ("common:role-title", ""),                              # common:long-text
    ("common:organization/common:name", "n" * 4001),        # common:long-text
    ("common:organization/common:address/common:city", "c" * 4001),
    ("common:organization/common:address/common:region", " "),
])
def test_xsd_refusals_on_affiliations_get_9012(api, sample, orcid_schemas, path, value):
    root = _text(sample("education-3.0.xml"), path, value)
    assert error_of(_post(api, "education", root), orcid_schemas) == (400, 9012)


@pytest.mark.parametrize("path, value", [
    ("work:title/common:translated-title", " "),            # common:string-with-lang-code
    (".//work:credit-name", ""),                            # common:string-150
])
def test_xsd_refusals_on_works_get_9012(api, sample, orcid_schemas, path, value):
    root = _text(sample("work-full-3.0.xml"), path, value)
    assert error_of(_post(api, "work", root), orcid_schemas) == (400, 9012)


def test_secret_visibility_is_refused(api, sample, orcid_schemas, orcid_model_dir):
    root = sample("work-simple-3.0.xml")
    root.set("visibility", "secret")
    assert error_of(_post(api, "work", root), orcid_schemas) == (400, 9012)
    doc = json.loads((orcid_model_dir / WRITE / "work-full-3.0.json").read_text())
    doc["visibility"] = "secret"
    assert error_of(api.post("/work", json.dumps(doc), JSON)) == (400, 9047)


def test_unknown_json_properties_get_9047(api, orcid_model_dir):
    doc = json.loads((orcid_model_dir / WRITE / "work-full-3.0.json").read_text())
    doc["work-type"] = "book"
    assert error_of(api.post("/work", json.dumps(doc), JSON)) == (400, 9047)
    doc = json.loads((orcid_model_dir / WRITE / "education-3.0.json").read_text())
    doc["organization"]["ror"] = "https://ror.org/x"
    assert error_of(api.post("/education", json.dumps(doc), JSON)) == (400, 9047)


# -- 8: duplicates after ORCID's normalizers (identifiers/normalizers/*.java) ---------------------
@pytest.mark.parametrize("id_type, first, second, duplicate", [
    ("isbn", "978-0-306-40615-7", "ISBN 9780306406157", True),
    ("issn", "0317-8471", "0317 8471", True),
    ("pmid", "PMID: 12345678", "https://pubmed.ncbi.nlm.nih.gov/12345678", True),
    ("pmc", "PMC1234567", "pmc1234567", True),
    ("arxiv", "arXiv:1501.00001", "1501.00001", True),
    ("bibcode", "2020ApJ...900..100A", "bibcode:2020ApJ...900..100A", True),
    ("rrid", "RRID:AB_123456", "AB_123456", True),
    ("handle", "1234/ABC", "1234/abc", True),
    ("doi", "10.5555/ABC", "https://doi.org/10.5555/abc", True),
    # URI is case-sensitive (uri_id_type_case_sensitive.xml:5): only http:// is added.
    ("uri", "example.org/a", "http://example.org/a", True),
    ("uri", "http://example.org/A", "http://example.org/a", False),
])
def test_duplicates_compare_normalized_ids(api, orcid_schemas, id_type, first, second,
                                           duplicate):
    put_code_of(api.post("/work", work_xml(id_type=id_type, value=first)))
    response = api.post("/work", work_xml(title="Again", id_type=id_type, value=second))
    if duplicate:
        assert error_of(response, orcid_schemas) == (409, 9021)
    else:
        assert response.status_code == 201


# -- 9: affiliation ids are not checked (ActivityValidator.java:447-480) --------------------------
def test_affiliation_external_ids_are_not_checked(api, sample):
    root = sample("education-3.0.xml")
    ext = _find(root, ".//common:external-id")
    _text(ext, "common:external-id-type", "not-a-type")
    _drop(ext, "common:external-id-relationship")
    assert _post(api, "education", root).status_code == 201
    root = sample("service-3.0.xml")
    ext = _find(root, ".//common:external-id")
    _text(ext, "common:external-id-type", "isbn")
    _text(ext, "common:external-id-relationship", "funded-by")
    assert _post(api, "service", root).status_code == 201


# -- 10: contributor roles (ContributorRoleConverterImpl.java:33-52, CreditRole.java:38-45) -------
@pytest.mark.parametrize("role, ok", [
    ("author", True), ("AUTHOR", True), ("CHAIR_OR_TRANSLATOR", True),
    ("HTTP://CREDIT.NISO.ORG/CONTRIBUTOR-ROLES/SOFTWARE/", True),
    ("http://credit.niso.org/contributor-roles/Data-Curation/", True),
    ("Author", False), ("software", False),
])
def test_contributor_roles(api, sample, orcid_schemas, role, ok):
    root = _text(sample("work-full-3.0.xml"), ".//work:contributor-role", role)
    response = _post(api, "work", root)
    assert response.status_code == 201 if ok else error_of(response, orcid_schemas) == (400, 9058)


# -- 11: smaller codes ----------------------------------------------------------------------------
def test_funded_by_with_a_disallowed_type_gets_9020(api, orcid_schemas):
    body = work_xml().replace("</common:external-ids>", """<common:external-id>
      <common:external-id-type>isbn</common:external-id-type>
      <common:external-id-value>9780306406157</common:external-id-value>
      <common:external-id-relationship>funded-by</common:external-id-relationship>
    </common:external-id></common:external-ids>""")
    assert error_of(api.post("/work", body), orcid_schemas) == (400, 9020)  # ActivityValidator:247


def test_empty_citation_value_gets_9020(api, sample, orcid_schemas):
    root = _text(sample("work-full-3.0.xml"), "work:citation/work:citation-value", "")
    assert error_of(_post(api, "work", root), orcid_schemas) == (400, 9020)  # ActivityValidator:228


def test_put_or_delete_without_put_code_gets_405(api, orcid_schemas):
    assert error_of(api.put("/work", work_xml()), orcid_schemas) == (405, 9001)
    response = requests.delete(api.base + "/work", headers=api.headers(XML), timeout=10)
    assert error_of(response, orcid_schemas) == (405, 9001)


def test_standard_is_standards_and_policy(api, emulator):
    put_code_of(api.post("/work", work_xml(type="standard")))
    assert emulator.record(CARBERRY)["works"][-1]["type"] == "standards-and-policy"


def test_unchanged_put_by_another_client_gets_9014(api, emulator, orcid_schemas):
    put_code = put_code_of(api.post("/work", work_xml()))
    client = emulator.new_client(name="Other client", redirect_uris=[CALLBACK])
    other = Api(emulator, user_token(emulator, client=client))
    same = work_xml(attrs=f'put-code="{put_code}"')
    assert error_of(other.put(item_path("work", put_code), same), orcid_schemas) == (403, 9014)
    changed = work_xml(title="Changed", attrs=f'put-code="{put_code}"')
    assert error_of(other.put(item_path("work", put_code), changed), orcid_schemas) == (403, 9010)

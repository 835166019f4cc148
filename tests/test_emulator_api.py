"""The emulator's v3.0 API: ORCID's samples accepted, ORCID's rules enforced, documents valid."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from lxml import etree

CARBERRY = "0000-0002-1825-0097"
CALLBACK = "http://127.0.0.1:8765/orcid/callback"
XML = "application/vnd.orcid+xml"
JSON = "application/vnd.orcid+json"
NS = {p: f"http://www.orcid.org/ns/{p}" for p in
      ("common", "work", "error", "bulk", "activities", "record", "person", "education")}
AFFILIATION_SECTIONS = ["education", "employment", "qualification", "distinction",
                        "invited-position", "membership", "service"]


def user_token(emulator, email="josiah@example.edu", password="carberry-1",
               scope="/read-limited /activities/update", client=None) -> str:
    client_id = client["client_id"] if client else emulator.client_id
    secret = client["client_secret"] if client else emulator.client_secret
    query = urlencode({"client_id": client_id, "response_type": "code", "scope": scope,
                       "redirect_uri": CALLBACK})
    with requests.Session() as browser:
        url = emulator.consent(browser, f"{emulator.url}/oauth/authorize?{query}", email,
                                 password)
    code = parse_qs(urlsplit(url).query)["code"][0]
    response = requests.post(f"{emulator.url}/oauth/token", timeout=10, data={
        "client_id": client_id, "client_secret": secret, "grant_type": "authorization_code",
        "code": code, "redirect_uri": CALLBACK})
    return response.json()["access_token"]


class Api:
    """A tiny test-side caller; it parses nothing of the emulator's beyond what tests assert."""

    def __init__(self, emulator, token: str | None, orcid: str = CARBERRY):
        self.base = f"{emulator.url}/v3.0/{orcid}"
        self.token = token

    def headers(self, media: str, content: str | None = None) -> dict[str, str]:
        headers = {"Accept": media}
        if content:
            headers["Content-Type"] = content
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def get(self, path: str, media: str = XML) -> requests.Response:
        return requests.get(self.base + path, headers=self.headers(media), timeout=10)

    def post(self, path: str, body: bytes | str, media: str = XML) -> requests.Response:
        data = body.encode() if isinstance(body, str) else body
        return requests.post(self.base + path, data=data, headers=self.headers(media, media),
                             timeout=10)

    def put(self, path: str, body: bytes | str, media: str = XML) -> requests.Response:
        data = body.encode() if isinstance(body, str) else body
        return requests.put(self.base + path, data=data, headers=self.headers(media, media),
                            timeout=10)

    def delete(self, path: str) -> requests.Response:
        return requests.delete(self.base + path, headers=self.headers(XML), timeout=10)


@pytest.fixture
def api(emulator):
    return Api(emulator, user_token(emulator))


@pytest.fixture
def samples(orcid_model_dir) -> Path:
    return orcid_model_dir / "record_3.0" / "samples" / "write_samples"


def item_path(section: str, put_code: int | str) -> str:
    """The path of one item under the API fixture's record (``/{section}/{put-code}``)."""
    return f"/{section}/{put_code}"


def put_code_of(response: requests.Response) -> int:
    assert response.status_code == 201, response.text
    assert response.content == b""
    return int(response.headers["Location"].rsplit("/", 1)[1])


def error_of(response: requests.Response, schemas=None) -> tuple[int, int]:
    """(HTTP status, ORCID error code) from an error-3.0 body (XML or JSON)."""
    if "json" in response.headers.get("Content-Type", ""):
        body = response.json()
        assert body["response-code"] == response.status_code
        return response.status_code, body["error-code"]
    root = schemas.validate(response.content) if schemas else etree.fromstring(response.content)
    assert int(root.findtext("error:response-code", namespaces=NS)) == response.status_code
    return response.status_code, int(root.findtext("error:error-code", namespaces=NS))


SIMPLE_WORK = """<?xml version="1.0" encoding="UTF-8"?>
<work:work xmlns:common="http://www.orcid.org/ns/common" xmlns:work="http://www.orcid.org/ns/work"
  {attrs}>
  <work:title><common:title>{title}</common:title></work:title>
  <work:type>{type}</work:type>
  <common:publication-date><common:year>2024</common:year><common:month>{month}</common:month>
  </common:publication-date>
  <common:external-ids>
    <common:external-id>
      <common:external-id-type>{id_type}</common:external-id-type>
      <common:external-id-value>{value}</common:external-id-value>
      {relationship}
    </common:external-id>
  </common:external-ids>
</work:work>"""


def work_xml(title="A thesis", type="dissertation-thesis", month="06", id_type="doi",
             value="10.5555/thesis.1", relationship="self", attrs="") -> str:
    rel = (f"<common:external-id-relationship>{relationship}</common:external-id-relationship>"
           if relationship else "")
    return SIMPLE_WORK.format(title=title, type=type, month=month, id_type=id_type,
                              value=value, relationship=rel, attrs=attrs)


# -- official samples ----------------------------------------------------------------------------
XML_SAMPLES = ["work-simple-3.0.xml", "work-full-3.0.xml"] + [
    f"{s}-3.0.xml" for s in AFFILIATION_SECTIONS]
JSON_SAMPLES = ["work-full-3.0.json", "work-51-contributors-3.0.json",
                "work-with-NISO-roles-51-contributors-3.0.json"] + [
    f"{s}-3.0.json" for s in AFFILIATION_SECTIONS]


def _section_of(name: str) -> str:
    return "work" if name.startswith("work") else name.split("-3.0")[0]


@pytest.mark.parametrize("name", XML_SAMPLES)
def test_official_xml_write_samples_are_accepted_and_read_back(api, samples, orcid_schemas,
                                                               name):
    section = _section_of(name)
    source = etree.parse(str(samples / name)).getroot()
    put_code = put_code_of(api.post(f"/{section}", (samples / name).read_bytes()))
    read = api.get(f"/{section}/{put_code}")
    assert read.status_code == 200
    root = orcid_schemas.validate(read.content)
    assert root.get("put-code") == str(put_code)
    assert root.get("path") == f"/{CARBERRY}/{section}/{put_code}"
    assert root.findtext("common:source/common:source-client-id/common:path",
                         namespaces=NS) == "APP-DEMO000000000001"
    assert root.findtext("common:source/common:source-name",
                         namespaces=NS) == "Demo Thesis Repository"
    values = lambda r: [e.text.strip() for e in r.iterfind(  # noqa: E731
        ".//common:external-id-value", NS)]
    assert values(root) == values(source)
    if section == "work":
        assert root.findtext("work:title/common:title", namespaces=NS) == source.findtext(
            "work:title/common:title", namespaces=NS)
        assert root.find(".//work:contributor-email", NS) is None  # never returned
    else:
        assert root.findtext(".//common:disambiguated-organization-identifier",
                             namespaces=NS) == source.findtext(
            ".//common:disambiguated-organization-identifier", namespaces=NS).strip()


@pytest.mark.parametrize("name", JSON_SAMPLES)
def test_official_json_write_samples_are_accepted_and_read_back(api, samples, name):
    section = _section_of(name)
    sample = json.loads((samples / name).read_text())
    put_code = put_code_of(api.post(f"/{section}", (samples / name).read_bytes(), JSON))
    read = api.get(f"/{section}/{put_code}", JSON)
    assert read.status_code == 200
    assert read.headers["Content-Type"].startswith(JSON)
    body = read.json()
    assert body["put-code"] == put_code
    assert body["source"]["source-client-id"]["path"] == "APP-DEMO000000000001"
    assert isinstance(body["created-date"]["value"], int)  # epoch milliseconds
    sent = [e["external-id-value"] for e in sample["external-ids"]["external-id"]]
    assert [e["external-id-value"] for e in body["external-ids"]["external-id"]] == sent
    if section == "work":
        assert body["title"]["title"]["value"] == sample["title"]["title"]["value"]
        assert len(body["contributors"]["contributor"]) == len(
            sample["contributors"]["contributor"])


@pytest.mark.parametrize("name", ["bulk-work-3.0.xml", "bulk-work-3.0.json",
                                  "bulk-works-3-works-3.0.json",
                                  "bulk-works-100-works-3.0.json"])
def test_official_bulk_samples_are_accepted(api, samples, orcid_schemas, name):
    media = JSON if name.endswith(".json") else XML
    response = api.post("/works", (samples / name).read_bytes(), media)
    assert response.status_code == 200, response.text
    if media == XML:
        root = orcid_schemas.validate(response.content)
        slots = list(root)
        assert slots and all(etree.QName(s).localname == "work" for s in slots)
    else:
        slots = response.json()["bulk"]
        if name == "bulk-work-3.0.json":
            # Its second work has only a part-of ISBN: ORCID wants a self id (9023) and bulk
            # is not atomic, so the first work is created and the second slot is an error.
            assert slots[1]["error"]["error-code"] == 9023
            slots = slots[:1]
        assert slots and all("work" in s and s["work"]["put-code"] for s in slots)


# -- broken variants -----------------------------------------------------------------------------
@pytest.mark.parametrize("body, status, code", [
    (work_xml(title=""), 400, 9022),
    (work_xml(relationship=None), 400, 9023),
    (work_xml(relationship="part-of"), 400, 9023),
    (work_xml(id_type="not-a-type"), 400, 9023),
    # A bad enum is IllegalEnumValueException (9051) for XML (issue 12).
    (work_xml(type="dissertation"), 400, 9051),
    (work_xml(month="6"), 400, 9049),
    (work_xml(attrs='put-code="12"'), 400, 9024),
    (work_xml().replace("<common:external-ids>", "<common:url>x</common:url>"
                        "<common:external-ids>"), 400, 9012),  # XSD: OrcidBadRequestException
    (work_xml().replace("</work:work>", ""), 400, 9001),
    ("", 400, 9001),
])
def test_broken_works_get_orcids_errors(api, orcid_schemas, body, status, code):
    response = api.post("/work", body)
    assert error_of(response, orcid_schemas) == (status, code)


def test_work_without_external_ids_gets_9023(api, samples, orcid_schemas):
    root = etree.parse(str(samples / "work-simple-3.0.xml")).getroot()
    root.remove(root.find("common:external-ids", NS))
    assert error_of(api.post("/work", etree.tostring(root)), orcid_schemas) == (400, 9023)


def test_invalid_contributor_role_gets_9058(api, samples, orcid_schemas):
    text = (samples / "work-full-3.0.xml").read_text()
    text = text.replace("<work:contributor-role>author<", "<work:contributor-role>boss<")
    assert error_of(api.post("/work", text), orcid_schemas) == (400, 9058)


def test_entities_are_not_expanded(api, orcid_schemas):
    hostile = ('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               + work_xml(title="&x;").split("?>", 1)[1])
    assert api.post("/work", hostile).status_code == 400
    assert "root:" not in api.post("/work", hostile).text


def _education(samples, mutate) -> bytes:
    root = etree.parse(str(samples / "education-3.0.xml")).getroot()
    mutate(root)
    return etree.tostring(root)


def _drop(path):
    def mutate(root):
        el = root.find(path, NS)
        el.getparent().remove(el)
    return mutate


def _set(path, text):
    def mutate(root):
        root.find(path, NS).text = text
    return mutate


@pytest.mark.parametrize("mutate, code", [
    (_drop("common:organization/common:disambiguated-organization"), 9045),
    (_set(".//common:disambiguated-organization-identifier", "https://ror.org/000000000"), 9045),
    (_drop("common:organization"), 9046),
    (_drop("common:organization/common:address/common:city"), 9060),
    (_set("common:start-date/common:year", "1950"), 9055),
    (_set("common:start-date/common:day", "30"), 9049),
    (_set("common:organization/common:address/common:country", "XX"), 9051),
])
def test_broken_educations_get_orcids_errors(api, samples, orcid_schemas, mutate, code):
    response = api.post("/education", _education(samples, mutate))
    assert error_of(response, orcid_schemas) == (400, code)


def test_professional_activities_need_an_org_id_or_external_id(api, samples, orcid_schemas):
    root = etree.parse(str(samples / "distinction-3.0.xml")).getroot()
    for path in ("common:external-ids", "common:organization/common:disambiguated-organization"):
        el = root.find(path, NS)
        el.getparent().remove(el)
    assert error_of(api.post("/distinction", etree.tostring(root)), orcid_schemas) == (400, 9062)
    root = etree.parse(str(samples / "service-3.0.xml")).getroot()
    country = root.find(".//common:address/common:country", NS)
    country.getparent().remove(country)
    assert error_of(api.post("/service", etree.tostring(root)), orcid_schemas) == (400, 9061)


def test_json_errors_come_back_as_json(api):
    response = api.post("/work", json.dumps({"type": "book"}), JSON)
    assert response.status_code == 400
    body = response.json()
    assert body["error-code"] == 9022
    assert set(body) == {"response-code", "developer-message", "user-message", "error-code",
                         "more-info"}


# -- CRUD rules ----------------------------------------------------------------------------------
def test_put_updates_and_delete_removes(api, orcid_schemas, emulator):
    put_code = put_code_of(api.post("/work", work_xml()))
    changed = work_xml(title="A better title", attrs=f'put-code="{put_code}"')
    response = api.put(item_path("work", put_code), changed)
    assert response.status_code == 200
    root = orcid_schemas.validate(response.content)
    assert root.findtext("work:title/common:title", namespaces=NS) == "A better title"
    assert emulator.record(CARBERRY)["works"][-1]["title"] == "A better title"
    assert api.delete(item_path("work", put_code)).status_code == 204
    assert error_of(api.get(item_path("work", put_code)), orcid_schemas) == (404, 9016)
    assert error_of(api.delete(item_path("work", put_code)), orcid_schemas) == (404, 9016)


def test_put_code_must_match(api, orcid_schemas):
    put_code = put_code_of(api.post("/work", work_xml()))
    assert error_of(api.put(item_path("work", put_code), work_xml()), orcid_schemas) == (400, 9019)
    other = work_xml(attrs=f'put-code="{put_code + 1}"')
    assert error_of(api.put(item_path("work", put_code), other), orcid_schemas) == (400, 9019)


def test_cannot_touch_items_of_another_source(api, emulator, orcid_schemas):
    crossref = next(w for w in emulator.record(CARBERRY)["works"]
                    if w["source_client_id"] != emulator.client_id)
    pc = crossref["put_code"]
    body = work_xml(attrs=f'put-code="{pc}"')
    assert error_of(api.put(item_path("work", pc), body), orcid_schemas) == (403, 9010)
    assert error_of(api.delete(item_path("work", pc)), orcid_schemas) == (403, 9010)


def test_visibility_cannot_be_changed(api, orcid_schemas):
    put_code = put_code_of(api.post("/work", work_xml(attrs='visibility="private"')))
    root = orcid_schemas.validate(api.get(item_path("work", put_code)).content)
    assert root.get("visibility") == "public"  # the researcher's default, not what was sent
    body = work_xml(attrs=f'put-code="{put_code}" visibility="private"')
    assert error_of(api.put(item_path("work", put_code), body), orcid_schemas) == (403, 9035)
    same = work_xml(attrs=f'put-code="{put_code}" visibility="public"')
    assert api.put(item_path("work", put_code), same).status_code == 200


def test_visibility_on_post_is_the_researchers_default(emulator):
    kwame = emulator.researcher("kwame@example.org")
    api = Api(emulator, user_token(emulator, "kwame@example.org", "mensah-1"), kwame["orcid"])
    put_code_of(api.post("/work", work_xml()))
    assert emulator.record(kwame["orcid"])["works"][-1]["visibility"] == "limited"


def test_duplicate_self_id_from_same_client_names_the_put_code(api, orcid_schemas):
    put_code = put_code_of(api.post("/work", work_xml(value="10.5555/Thesis.1")))
    duplicate = api.post("/work", work_xml(title="Other", value="https://doi.org/10.5555/THESIS.1"))
    assert error_of(duplicate, orcid_schemas) == (409, 9021)
    assert f"put-code {put_code}" in duplicate.text


def test_same_doi_from_another_source_is_grouped(api, emulator, orcid_schemas):
    put_code_of(api.post("/work", work_xml(value="10.5555/12345678")))  # Crossref's DOI
    root = orcid_schemas.validate(api.get("/works").content)
    groups = root.findall("activities:group", NS)
    sizes = sorted(len(g.findall("work:work-summary", NS)) for g in groups)
    assert sizes == [1, 2]
    shared = next(g for g in groups if len(g.findall("work:work-summary", NS)) == 2)
    assert shared.findtext("common:external-ids/common:external-id/common:external-id-value",
                           namespaces=NS) == "10.5555/12345678"


def test_over_ten_thousand_works_gets_9048(api, emulator, orcid_schemas):
    from flask_orcid.emulator.state import Item

    st = emulator.app.extensions["orcid_emulator"].state
    with st.lock:
        works = st.researchers[CARBERRY].section("work")
        for n in range(10000 - len(works)):
            works[10_000_000 + n] = Item(10_000_000 + n, "work", {"title": "x", "type": "other",
                                         "external_ids": []}, "private", 0.0, 0.0,
                                         source_client_id="APP-DATACITE00000001")
    assert error_of(api.post("/work", work_xml()), orcid_schemas) == (409, 9048)


# -- bulk ----------------------------------------------------------------------------------------
def _bulk(*works: str) -> str:
    inner = "".join(w.split("?>", 1)[1] for w in works)
    return (f'<bulk:bulk xmlns:bulk="http://www.orcid.org/ns/bulk" '
            f'xmlns:work="http://www.orcid.org/ns/work" '
            f'xmlns:common="http://www.orcid.org/ns/common">{inner}</bulk:bulk>')


def test_bulk_post_answers_per_slot(api, orcid_schemas):
    body = _bulk(work_xml(value="10.5555/b.1"), work_xml(type="nonsense", value="10.5555/b.2"),
                 work_xml(value="10.5555/b.3"), work_xml(title="again", value="10.5555/b.1"))
    response = api.post("/works", body)
    assert response.status_code == 200
    root = orcid_schemas.validate(response.content)
    kinds = [etree.QName(s).localname for s in root]
    assert kinds == ["work", "error", "work", "error"]
    assert root[1].findtext("error:error-code", namespaces=NS) == "9037"
    assert root[3].findtext("error:error-code", namespaces=NS) == "9021"
    assert root[0].get("put-code") and root[2].get("put-code")


def test_bulk_post_over_100_is_refused(api, orcid_schemas):
    body = _bulk(*[work_xml(value=f"10.5555/many.{n}") for n in range(101)])
    assert error_of(api.post("/works", body), orcid_schemas) == (400, 9006)


def test_bulk_read_by_put_codes(api, orcid_schemas):
    codes = [put_code_of(api.post("/work", work_xml(value=f"10.5555/r.{n}"))) for n in range(3)]
    response = api.get("/works/" + ",".join(map(str, [*codes, 99999999])))
    assert response.status_code == 200
    root = orcid_schemas.validate(response.content)
    assert [s.get("put-code") for s in root[:3]] == [str(c) for c in codes]
    assert root[3].findtext("error:error-code", namespaces=NS) == "9016"
    too_many = api.get("/works/" + ",".join(str(n) for n in range(1, 102)))
    assert error_of(too_many, orcid_schemas) == (400, 9042)


# -- reading -------------------------------------------------------------------------------------
def test_record_person_works_and_sections_validate(api, orcid_schemas, samples):
    for section in AFFILIATION_SECTIONS:
        put_code_of(api.post(f"/{section}", (samples / f"{section}-3.0.xml").read_bytes()))
    for path in ("/record", "/person", "/works", "/activities"):
        response = api.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith(XML)
        orcid_schemas.validate(response.content)
    plurals = {"education": "educations", "employment": "employments",
               "qualification": "qualifications", "distinction": "distinctions",
               "invited-position": "invited-positions", "membership": "memberships",
               "service": "services"}
    for section, plural in plurals.items():
        root = orcid_schemas.validate(api.get(f"/{plural}").content)
        assert etree.QName(root).localname == plural
        summaries = root.findall(f"activities:affiliation-group/{{{'http://www.orcid.org/ns/'}"
                                 f"{section}}}{section}-summary", NS)
        assert summaries, section


def test_record_json_shape(api):
    body = api.get("/record", JSON).json()
    assert body["orcid-identifier"]["path"] == CARBERRY
    assert body["person"]["name"]["given-names"]["value"] == "Josiah"
    emails = body["person"]["emails"]["email"]
    assert emails[0]["email"] == "josiah@example.edu" and emails[0]["verified"] is True
    groups = body["activities-summary"]["educations"]["affiliation-group"]
    summary = groups[0]["summaries"][0]["education-summary"]
    assert summary["organization"]["disambiguated-organization"][
        "disambiguation-source"] == "ROR"


def test_public_reader_sees_only_public_items(emulator, orcid_schemas):
    kwame = emulator.researcher("kwame@example.org")
    anonymous = Api(emulator, None, kwame["orcid"])
    root = orcid_schemas.validate(anonymous.get("/record").content)
    assert root.find(".//person:name", NS) is None  # the name is limited
    assert root.findall(".//work:work-summary", NS) == []
    assert root.find(".//{http://www.orcid.org/ns/email}email") is None
    owner = Api(emulator, user_token(emulator, "kwame@example.org", "mensah-1"), kwame["orcid"])
    root = orcid_schemas.validate(owner.get("/record").content)
    assert root.find(".//person:name", NS) is not None
    titles = [t.text for t in root.iterfind(".//work:work-summary/work:title/common:title", NS)]
    assert titles == ["Solar cell efficiency in humid climates"]  # the private one stays hidden


def test_read_public_client_token_reads_public_data(emulator):
    token = requests.post(f"{emulator.url}/oauth/token", timeout=10, data={
        "client_id": emulator.client_id, "client_secret": emulator.client_secret,
        "grant_type": "client_credentials", "scope": "/read-public"}).json()["access_token"]
    reader = Api(emulator, token)
    assert reader.get("/works").status_code == 200
    refused = reader.post("/work", work_xml())
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"


def test_write_needs_the_update_scope(emulator):
    token = user_token(emulator, scope="/read-limited")
    response = Api(emulator, token).post("/work", work_xml())
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_write_needs_a_token(emulator):
    response = Api(emulator, None).post("/work", work_xml())
    assert response.status_code == 401


def test_token_for_another_record_cannot_write(api, emulator, orcid_schemas):
    maria = emulator.researcher("maria@example.edu")
    elsewhere = Api(emulator, api.token, maria["orcid"])
    assert error_of(elsewhere.post("/work", work_xml()), orcid_schemas) == (401, 9017)


def test_media_types(api):
    assert api.get("/works", "text/html").status_code == 406
    for media in ("application/vnd.orcid+xml", "application/orcid+xml", "application/xml"):
        response = api.get("/works", media)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(media)
    for media in ("application/vnd.orcid+json", "application/orcid+json", "application/json"):
        response = api.get("/works", media)
        assert response.headers["Content-Type"].startswith(media)
        assert "group" in response.json()
    response = requests.post(api.base + "/work", data=work_xml().encode(), timeout=10,
                             headers={"Authorization": f"Bearer {api.token}",
                                      "Content-Type": "text/plain"})
    assert response.status_code == 415


def test_dates_have_no_trailing_whitespace(api):
    text = api.get("/record").text
    for value in re.findall(r"<common:(?:created|last-modified)-date>([^<]*)<", text):
        assert value == value.strip() and value.endswith("Z")


def test_unknown_record_and_put_code(api, orcid_schemas):
    assert error_of(api.get(item_path("work", 424242)), orcid_schemas) == (404, 9016)
    other = Api.__new__(Api)
    other.base, other.token = api.base.replace(CARBERRY, "0000-0001-5000-0007"), api.token
    assert other.get("/record").status_code == 404


def test_writes_without_a_version_prefix_are_refused(api, emulator, orcid_schemas):
    response = requests.post(f"{emulator.url}/{CARBERRY}/work", data=work_xml().encode(),
                             timeout=10, headers=api.headers(XML, XML))
    assert error_of(response, orcid_schemas) == (400, 9012)


@pytest.mark.parametrize("email", ["maria@example.edu", "kwame@example.org"])
def test_every_seeded_record_validates_in_xml_and_parses_in_json(emulator, orcid_schemas, email):
    person = emulator.researcher(email)
    public = Api(emulator, None, person["orcid"])
    for path in ("/record", "/person", "/works", "/educations", "/employments"):
        orcid_schemas.validate(public.get(path).content)
        assert public.get(path, JSON).json()["path"].startswith(f"/{person['orcid']}")
    if email.startswith("maria"):
        root = orcid_schemas.validate(public.get("/person").content)
        assert root.findtext(".//{http://www.orcid.org/ns/personal-details}family-name") == (
            "García Núñez")


def test_reset_brings_back_the_seed_state(api, emulator):
    before = emulator.record(CARBERRY)
    put_code_of(api.post("/work", work_xml()))
    emulator.delete_item(CARBERRY, "education", before["educations"][0]["put_code"])
    emulator.reset()
    after = emulator.record(CARBERRY)
    assert [w["title"] for w in after["works"]] == [w["title"] for w in before["works"]]
    assert len(after["educations"]) == 1
    assert emulator.tokens() == []

"""The sample repository's OAI-PMH 2.0 endpoint (issue 15, item 4): every verb and error,
resumption across pages, deleted records for withdrawn theses, sets, datestamps; every
response validated against OAI-PMH.xsd with its metadata (tests/schemas, offline)."""

from __future__ import annotations

import datetime as dt

import pytest
from itsdangerous import URLSafeTimedSerializer

from example_repository.db import db
from example_repository.models import Advisor, Thesis
from example_repository.oai import TOKEN_SALT
from tests.test_example_workflow import accept, submit_thesis, theses
from tests.xsd import validate

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/",
      "etd": "http://www.ndltd.org/standards/metadata/etdms/1.0/"}


@pytest.fixture
def make_published(make_repo, make_person):
    """A repository with ``count`` published theses (page size 2 unless told)."""

    def build(count: int = 1, **config):
        config.setdefault("REPOSITORY_OAI_PAGE_SIZE", 2)
        repo = make_repo(**config)
        student = make_person(repo)
        admin = make_person(repo, email="admin@example.edu", admin=True)
        for n in range(count):
            degree = "phd" if n % 2 == 0 else "ms"
            submit_thesis(student, title=f"Thesis number {n}", degree=degree,
                          department="Department of Mathematics" if n < 3 else "Física")
        for thesis in theses(repo):
            accept(admin, thesis.id)
        return repo, admin

    return build


def oai(client, method: str = "get", **args):
    response = getattr(client, method)("/oai", **({"data": args} if method == "post"
                                                  else {"query_string": args}))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return validate(response.data)


def error_code(root) -> str | None:
    errors = root.findall("o:error", NS)
    return errors[0].get("code") if errors else None


def ident(thesis_id: int) -> str:
    return f"oai:localhost:etd/{thesis_id}"


def test_identify_formats_and_sets_by_get_and_post(make_published):
    repo, _admin = make_published(2)
    client = repo.test_client()
    for method in ("get", "post"):
        root = oai(client, method, verb="Identify")
        assert root.findtext("o:Identify/o:baseURL", namespaces=NS) == "http://localhost/oai"
        assert root.findtext("o:Identify/o:deletedRecord", namespaces=NS) == "persistent"
        assert root.findtext("o:Identify/o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
        assert root.find("o:request", NS).get("verb") == "Identify"
    root = oai(client, verb="ListMetadataFormats")
    prefixes = root.xpath("//o:metadataPrefix/text()", namespaces=NS)
    assert prefixes == ["oai_dc", "oai_etdms", "datacite"]
    first = theses(repo)[0].id
    root = oai(client, verb="ListMetadataFormats", identifier=ident(first))
    assert len(root.xpath("//o:metadataFormat", namespaces=NS)) == 3
    specs = oai(client, verb="ListSets").xpath("//o:setSpec/text()", namespaces=NS)
    assert {"degree", "degree:phd", "degree:ms", "department",
            "department:department-of-mathematics"} <= set(specs)


@pytest.mark.parametrize(("args", "code"), [
    ({}, "badVerb"),
    ({"verb": "Harvest"}, "badVerb"),
    ({"verb": ["Identify", "Identify"]}, "badVerb"),
    ({"verb": "Identify", "extra": "1"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": ["oai_dc", "oai_dc"]}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-13-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01T00:00:00"},
     "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01",
      "until": "2024-02-01T00:00:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-02-01",
      "until": "2024-01-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"},
     "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "<oai_dc>"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "mods", "identifier": "oai:localhost:etd/1"},
     "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:localhost:etd/999"},
     "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:elsewhere:etd/1"},
     "idDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": "oai:localhost:etd/abc"}, "idDoesNotExist"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2999-01-01"},
     "noRecordsMatch"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "degree:mfa"},
     "noRecordsMatch"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "nonsense"},
     "noRecordsMatch"),
    ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "anything"}, "badResumptionToken"),
])
def test_every_error_is_a_valid_oai_error(make_published, args, code):
    repo, _admin = make_published(1)
    for method in ("get", "post"):
        root = oai(repo.test_client(), method, **args)
        assert error_code(root) == code, args
        request = root.find("o:request", NS)
        if code in ("badVerb", "badArgument"):
            assert dict(request.attrib) == {}  # OAI-PMH §3.6: the base URL only
        assert root.find("o:ListRecords", NS) is None


def test_tokens_are_signed_expire_and_belong_to_their_verb(make_published):
    repo, _admin = make_published(3)
    client = repo.test_client()
    root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = root.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    assert token
    # a ListIdentifiers token is not a ListRecords token
    root = oai(client, verb="ListRecords", resumptionToken=token)
    assert error_code(root) == "badResumptionToken"
    # a token changed by hand, or signed with another key, is refused
    # one character of the signature changed: not the last one, whose low bits base64 drops
    i = len(token) - 5
    changed = token[:i] + ("B" if token[i] == "A" else "A") + token[i + 1:]
    assert error_code(oai(client, verb="ListIdentifiers", resumptionToken=changed)) \
        == "badResumptionToken"
    forged = URLSafeTimedSerializer("another-key", salt=TOKEN_SALT).dumps(
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "after": 0, "cursor": 0})
    assert error_code(oai(client, verb="ListIdentifiers", resumptionToken=forged)) \
        == "badResumptionToken"
    # with a lifetime of zero hours every token has already expired
    repo.config["REPOSITORY_OAI_TOKEN_HOURS"] = -1
    assert error_code(oai(client, verb="ListIdentifiers", resumptionToken=token)) \
        == "badResumptionToken"


def test_resumption_walks_every_page_once(make_published):
    repo, _admin = make_published(5)
    client = repo.test_client()
    for verb, item in (("ListIdentifiers", "o:header"), ("ListRecords", "o:record")):
        seen, cursors = [], []
        root = oai(client, verb=verb, metadataPrefix="oai_dc")
        while True:
            seen += root.xpath(f"//o:{verb}/{item}//o:identifier/text()", namespaces=NS)
            token = root.find(f"o:{verb}/o:resumptionToken", NS)
            if token is None:
                break
            cursors.append(token.get("cursor"))
            assert token.get("completeListSize") == "5"
            if not token.text:
                break  # the last page of a resumed list carries an empty token
            assert token.get("expirationDate").endswith("Z")
            root = oai(client, "post", verb=verb, resumptionToken=token.text)
        assert cursors == ["0", "2", "4"]
        assert seen == [ident(t.id) for t in theses(repo)]


def test_sets_and_dates_select_records(make_published):
    repo, _admin = make_published(4, REPOSITORY_OAI_PAGE_SIZE=10)
    client = repo.test_client()
    ids = [t.id for t in theses(repo)]

    def listed(**args):
        root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **args)
        return root.xpath("//o:header/o:identifier/text()", namespaces=NS)

    assert listed(set="degree:ms") == [ident(ids[1]), ident(ids[3])]
    assert listed(set="department:fisica") == [ident(ids[3])]
    with repo.app_context():
        old = db.session.get(Thesis, ids[0])
        old.updated_at = dt.datetime(2020, 5, 1, 12, 0, 30)
        db.session.commit()
    assert listed(until="2020-05-01") == [ident(ids[0])]
    assert listed(until="2020-05-01T12:00:30Z") == [ident(ids[0])]
    assert error_code(oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc",
                          until="2020-05-01T12:00:29Z")) == "noRecordsMatch"
    assert ident(ids[0]) not in listed(**{"from": "2020-05-02"})
    header = oai(client, verb="GetRecord", metadataPrefix="oai_dc",
                 identifier=ident(ids[0])).find("o:GetRecord/o:record/o:header", NS)
    assert header.findtext("o:datestamp", namespaces=NS) == "2020-05-01T12:00:30Z"
    assert header.xpath("o:setSpec/text()", namespaces=NS) == [
        "degree", "degree:phd", "department", "department:department-of-mathematics"]
    earliest = oai(client, verb="Identify").findtext("o:Identify/o:earliestDatestamp",
                                                     namespaces=NS)
    assert earliest == "2020-05-01T12:00:30Z"


def test_a_change_to_a_person_moves_the_datestamp(make_published):
    """An invitation that authenticates an advisor's iD changes only the advisor's row: the
    thesis' datestamp moves, so an incremental harvest picks the new iD up."""
    repo, _admin = make_published(1)
    [thesis] = theses(repo)
    with repo.app_context():
        row = db.session.get(Thesis, thesis.id)
        row.updated_at = dt.datetime(2020, 1, 1)
        db.session.commit()
    client = repo.test_client()
    args = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2021-01-01"}
    assert error_code(oai(client, **args)) == "noRecordsMatch"
    with repo.app_context():
        advisor = db.session.scalars(db.select(Advisor).where(Advisor.thesis_id == thesis.id)).one()
        advisor.orcid, advisor.orcid_authenticated = "0000-0001-5109-3700", True
        db.session.commit()
    assert oai(client, **args).xpath("//o:header/o:identifier/text()", namespaces=NS) == [
        ident(thesis.id)]


def test_withdrawn_theses_are_deleted_records_and_drafts_never_appear(make_published,
                                                                     make_person):
    repo, admin = make_published(2)
    first, second = theses(repo)
    response = admin.post_form(f"/admin/theses/{first.id}/withdraw",
                               {"withdraw-reason": "Duplicate", "withdraw-withdraw": "1"},
                               page=f"/admin/theses/{first.id}")
    assert response.status_code == 302
    other = make_person(repo, email="draft@example.edu")
    other.post_form("/submit/form", {"title": "Unfinished", "save_draft": "1"})
    client = repo.test_client()
    for prefix in ("oai_dc", "oai_etdms", "datacite"):
        root = oai(client, verb="GetRecord", metadataPrefix=prefix, identifier=ident(first.id))
        record = root.find("o:GetRecord/o:record", NS)
        assert record.find("o:header", NS).get("status") == "deleted"
        assert record.find("o:metadata", NS) is None
    root = oai(client, verb="ListRecords", metadataPrefix="oai_etdms")
    headers = root.findall("o:ListRecords/o:record/o:header", NS)
    assert [(h.findtext("o:identifier", namespaces=NS), h.get("status")) for h in headers] == [
        (ident(first.id), "deleted"), (ident(second.id), None)]
    draft = [t for t in theses(repo) if t.status == "draft"][0]
    assert error_code(oai(client, verb="GetRecord", metadataPrefix="oai_dc",
                          identifier=ident(draft.id))) == "idDoesNotExist"


def test_hostile_text_is_escaped_in_every_format(make_repo, make_person):
    repo = make_repo()
    student = make_person(repo, family_name='Lovelace"><x/>')
    evil = 'Injection </dc:title><script>alert("x")</script> & \x0b\x01 done'
    submit_thesis(student, title=evil, family_name='Lovelace"><x/>', keywords="a<b, c&d",
                  **{"advisors-0-name": "Babbage ]]> <dc:creator>"})
    [thesis] = theses(repo)
    accept(make_person(repo, email="admin@example.edu", admin=True), thesis.id)
    client = repo.test_client()
    for prefix in ("oai_dc", "oai_etdms", "datacite"):
        root = oai(client, verb="GetRecord", metadataPrefix=prefix, identifier=ident(thesis.id))
        text = " ".join(root.itertext())
        assert 'Injection </dc:title><script>alert("x")</script> &  done' in text
        assert "Babbage ]]> <dc:creator>" in text
        assert root.xpath("//*[local-name()='script' or local-name()='x']") == []
    # an identifier full of markup is echoed as text, still valid
    root = oai(client, verb="GetRecord", metadataPrefix="oai_dc", identifier='oai:"<a>&\x00')
    assert error_code(root) == "idDoesNotExist"

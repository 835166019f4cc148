"""Issue 12: real third-party ORCID clients work against the emulator as they do against ORCID.

python-orcid (``orcid`` on PyPI) and PyOrcid (``pyorcid``) are installed by the ``test`` extra.
Each does what its users do: a client-credentials token, public reads, and (python-orcid, the one
that writes) adding, updating and deleting a work in XML and JSON, and the 409 on a duplicate.
Both hard-code ORCID's hosts; the tests point them at the emulator by the base URL only:
python-orcid's endpoint attributes, PyOrcid's requests session (an adapter that rewrites the
host) and its token call. Where a peer itself departs from ORCID, the test says so and pins only
what ORCID would do.

Where the peers are at fault (not the emulator):
- python-orcid 1.0.3 speaks API v2.0 (its module constant ``VERSION``); ORCID's current API is
  v3.0, which is all the emulator serves, so the tests set ``VERSION`` to ``/v3.0``.
- PyOrcid's constructor first reads ``os.environ["ORCID_ACCESS_TOKEN"]`` (a hook for its own CI)
  and calls the sandbox; without that variable it checks the token on the host it was given.
  It counts a 404 as a valid token. Its GETs send no ``Accept`` and rely on ORCID answering
  JSON to a JSON ``Content-Type``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orcid  # python-orcid
import orcid.orcid as python_orcid_module
import pyorcid
import pyorcid.orcid_authentication as pyorcid_auth
import pytest
import requests
from lxml import etree
from requests.adapters import HTTPAdapter

from tests.test_emulator_api import CARBERRY, user_token, work_xml

ORCID_HOSTS = ("orcid.org", "pub.orcid.org", "api.orcid.org", "sandbox.orcid.org", "pub.sandbox.orcid.org",
               "api.sandbox.orcid.org")


def _to_emulator(url: str, base: str) -> str:
    parts, target = urlsplit(url), urlsplit(base)
    if parts.hostname not in ORCID_HOSTS:
        return url
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


class EmulatorAdapter(HTTPAdapter):
    """Sends a request meant for an orcid.org host to the emulator; changes nothing else."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        request.url = _to_emulator(request.url or "", self.base)
        return super().send(request, *args, **kwargs)


def json_work(title: str, doi: str) -> dict[str, Any]:
    return {
        "title": {"title": {"value": title}},
        "type": "journal-article",
        "external-ids": {"external-id": [
            {"external-id-type": "doi", "external-id-value": doi, "external-id-relationship": "self"}]},
    }


# -- python-orcid ---------------------------------------------------------------------------------
@pytest.fixture
def python_orcid(emulator, monkeypatch) -> orcid.MemberAPI:
    # python-orcid 1.0.3 talks to API v2.0 (its module constant VERSION) on orcid.org hosts; the
    # peer is out of date there, not the emulator, which serves v3.0 as ORCID's current API.
    monkeypatch.setattr(python_orcid_module, "VERSION", "/v3.0")
    api = orcid.MemberAPI(emulator.client_id, emulator.client_secret, sandbox=True, timeout=10)
    api._endpoint = emulator.url
    api._token_url = f"{emulator.url}/oauth/token"
    return api


def test_python_orcid_client_credentials_and_public_reads(python_orcid, emulator):
    token = python_orcid.get_search_token_from_orcid()
    assert token
    record = python_orcid.read_record_public(CARBERRY, "record", token)
    assert record["orcid-identifier"]["path"] == CARBERRY
    assert record["person"]["name"]["family-name"]["value"] == "Carberry"
    works = python_orcid.read_record_public(CARBERRY, "works", token)
    titles = [s["title"]["title"]["value"] for g in works["group"] for s in g["work-summary"]]
    assert "The Psychoceramics of Cracked Pots" in titles
    put_code = works["group"][0]["work-summary"][0]["put-code"]
    work = python_orcid.read_record_public(CARBERRY, "work", token, put_code=put_code)
    assert work["put-code"] == put_code
    xml = python_orcid.read_record_public(CARBERRY, "works", token, accept_type="application/orcid+xml")
    assert etree.QName(xml).localname == "works"


def test_python_orcid_adds_updates_and_deletes_a_json_work(python_orcid, emulator):
    token = user_token(emulator)
    put_code = python_orcid.add_record(CARBERRY, token, "work", json_work("Peer JSON work", "10.5555/peer.json"))
    assert put_code and put_code.isdigit()
    held = [w for w in emulator.record(CARBERRY)["works"] if w["put_code"] == int(put_code)]
    assert held and held[0]["title"] == "Peer JSON work"
    member_view = python_orcid.read_record_member(CARBERRY, "work", token, put_code=put_code)
    assert member_view["title"]["title"]["value"] == "Peer JSON work"

    python_orcid.update_record(CARBERRY, token, "work", json_work("Peer JSON work, revised", "10.5555/peer.json"),
                               put_code)
    held = [w for w in emulator.record(CARBERRY)["works"] if w["put_code"] == int(put_code)]
    assert held[0]["title"] == "Peer JSON work, revised"

    with pytest.raises(requests.HTTPError) as duplicate:
        python_orcid.add_record(CARBERRY, token, "work", json_work("Same DOI", "https://doi.org/10.5555/PEER.JSON"))
    assert duplicate.value.response.status_code == 409
    assert duplicate.value.response.json()["error-code"] == 9021  # it asked for JSON

    python_orcid.remove_record(CARBERRY, token, "work", put_code)
    assert all(w["put_code"] != int(put_code) for w in emulator.record(CARBERRY)["works"])


def test_python_orcid_adds_updates_and_deletes_an_xml_work(python_orcid, emulator):
    token = user_token(emulator)
    xml_type = "application/orcid+xml"
    body = etree.fromstring(work_xml(title="Peer XML work", value="10.5555/peer.xml").encode())
    put_code = python_orcid.add_record(CARBERRY, token, "work", body, content_type=xml_type)
    held = [w for w in emulator.record(CARBERRY)["works"] if w["put_code"] == int(put_code)]
    assert held and held[0]["title"] == "Peer XML work"

    revised = etree.fromstring(work_xml(title="Peer XML work, revised", value="10.5555/peer.xml").encode())
    python_orcid.update_record(CARBERRY, token, "work", revised, put_code, content_type=xml_type)
    assert revised.get("put-code") == put_code  # python-orcid puts the put-code on the root, as ORCID wants
    held = [w for w in emulator.record(CARBERRY)["works"] if w["put_code"] == int(put_code)]
    assert held[0]["title"] == "Peer XML work, revised"

    again = etree.fromstring(work_xml(title="Again", value="10.5555/PEER.XML").encode())
    with pytest.raises(requests.HTTPError) as duplicate:
        python_orcid.add_record(CARBERRY, token, "work", again, content_type=xml_type)
    assert duplicate.value.response.status_code == 409
    # python-orcid always sends Accept: application/orcid+json, so the error is JSON even for XML.
    assert json.loads(duplicate.value.response.content)["error-code"] == 9021

    python_orcid.remove_record(CARBERRY, token, "work", put_code)
    assert all(w["put_code"] != int(put_code) for w in emulator.record(CARBERRY)["works"])


# -- PyOrcid --------------------------------------------------------------------------------------
@pytest.fixture
def pyorcid_token(emulator, monkeypatch) -> str:
    """PyOrcid's OrcidAuthentication posts to https://orcid.org/oauth/token with requests.post."""
    real_post = requests.post

    def post(url: str, *args: Any, **kwargs: Any) -> requests.Response:
        return real_post(_to_emulator(url, emulator.url), *args, timeout=10, **kwargs)

    monkeypatch.setattr(pyorcid_auth.requests, "post", post)
    auth = pyorcid.OrcidAuthentication(emulator.client_id, emulator.client_secret)
    token = auth.get_public_access_token()
    assert token
    return str(token)


def _pyorcid(emulator, monkeypatch, token: str, state: str = "public") -> pyorcid.Orcid:
    # PyOrcid's constructor checks the token with an orcid.org request on a Session it creates,
    # so the adapter goes on every new Session while the client is built, then on its own.
    original = requests.Session.__init__

    def init(self: requests.Session) -> None:
        original(self)
        self.mount("https://", EmulatorAdapter(emulator.url))

    monkeypatch.setattr(requests.Session, "__init__", init)
    client = pyorcid.Orcid(CARBERRY, token, state=state)
    monkeypatch.setattr(requests.Session, "__init__", original)
    return client


def test_pyorcid_reads_the_public_record(emulator, monkeypatch, pyorcid_token):
    # PyOrcid sends no Accept (requests' */*) and Content-Type: application/json on its GETs; ORCID
    # answers such a request in JSON, which is what PyOrcid parses.
    client = _pyorcid(emulator, monkeypatch, pyorcid_token)
    works, raw = client.works()
    assert "The Psychoceramics of Cracked Pots" in [w["title"] for w in works]
    assert raw["group"]
    educations, _ = client.educations()
    assert educations
    assert client.record()["orcid-identifier"]["path"] == CARBERRY


def test_pyorcid_member_reads_with_a_researchers_token(emulator, monkeypatch):
    token = user_token(emulator)
    client = _pyorcid(emulator, monkeypatch, token, state="member")
    works, _ = client.works()
    assert "The Psychoceramics of Cracked Pots" in [w["title"] for w in works]


def test_pyorcid_refused_token_is_an_error(emulator, monkeypatch):
    with pytest.raises(ValueError, match="Invalid access token"):
        _pyorcid(emulator, monkeypatch, "not-a-token", state="member")

"""XXE and entity bombs to every parser: the protocol's readers (ORCID's answers) and the
emulator's (what a client posts to it); deeply nested JSON to the emulator too."""

from __future__ import annotations

import pytest
import requests

from flask_orcid import XMLError, parse_error, parse_person, parse_record, parse_work, parse_works
from flask_orcid.emulator import parsing as emulator_parsing
from flask_orcid.emulator.rules import ApiError
from flask_orcid.protocol.xmlsafe import parse_xml

from ..plugins.app import orcid

WORK_NS = 'xmlns:work="http://www.orcid.org/ns/work"'


def _payloads(secret_path: str) -> dict[str, bytes]:
    return {
        "file entity": (f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file://{secret_path}">]>'
                        f'<work:work {WORK_NS}><work:title>&x;</work:title></work:work>').encode(),
        "billion laughs": (
            '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;">'
            '<!ENTITY e "&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;">]>'
            f'<work:work {WORK_NS}><work:title>&f;&f;&f;&f;</work:title></work:work>').encode(),
        "external dtd": (f'<?xml version="1.0"?><!DOCTYPE w SYSTEM "file://{secret_path}">'
                         f'<work:work {WORK_NS}/>').encode(),
        "parameter entity": (f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY % p SYSTEM '
                             f'"file://{secret_path}"> %p;]><work:work {WORK_NS}/>').encode(),
    }


@pytest.fixture
def secret_path(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return str(path)


READERS = [parse_xml, parse_record, parse_work, parse_works, parse_person]


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
@pytest.mark.parametrize("kind", ["file entity", "billion laughs", "external dtd",
                                  "parameter entity"])
def test_protocol_readers_refuse_entities(reader, kind, secret_path):
    with pytest.raises(XMLError) as refused:
        reader(_payloads(secret_path)[kind])
    assert "TOP-SECRET" not in str(refused.value)


@pytest.mark.parametrize("kind", ["file entity", "billion laughs", "external dtd",
                                  "parameter entity"])
def test_error_reader_never_raises_or_leaks(kind, secret_path):
    info = parse_error(_payloads(secret_path)[kind], "application/xml")
    assert "TOP-SECRET" not in repr(info) and "lollol" not in repr(info)


@pytest.mark.parametrize("kind", ["file entity", "billion laughs", "external dtd",
                                  "parameter entity"])
def test_emulator_reader_refuses_entities(kind, secret_path):
    with pytest.raises(ApiError) as refused:
        emulator_parsing.parse_xml(_payloads(secret_path)[kind])
    assert refused.value.status == 400
    assert "TOP-SECRET" not in repr(refused.value.__dict__)


def test_emulator_json_reader_refuses_deep_nesting():
    with pytest.raises(ApiError):
        emulator_parsing.parse_json(b"[" * 100000 + b"]" * 100000)


def test_emulator_api_refuses_xxe_and_deep_json_over_http(app, client, connect, make_user,
                                                         login, emulator, secret_path):
    login(client, make_user(app, email="j@example.edu"))
    assert connect(client, "josiah@example.edu").status_code == 302
    with app.app_context():
        account = orcid.get_account("1")
        token, who = account.access_token, account.orcid
    headers = {"Authorization": f"Bearer {token}"}
    for body, kind in ((_payloads(secret_path)["file entity"], "application/vnd.orcid+xml"),
                       (_payloads(secret_path)["billion laughs"], "application/vnd.orcid+xml"),
                       (b'{"a":' * 50000 + b"1" + b"}" * 50000, "application/vnd.orcid+json")):
        response = requests.post(f"{emulator.url}/v3.0/{who}/work", data=body,
                                 headers={**headers, "Content-Type": kind}, timeout=10)
        assert response.status_code == 400, (kind, response.status_code, response.text[:200])
        assert "TOP-SECRET" not in response.text

"""Hostile XML is refused, never expanded or fetched (DESIGN: hardened parsers)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from lxml import etree

from flask_orcid import XMLError, parse_error, parse_person, parse_record, parse_work, parse_works
from flask_orcid.protocol.xmlsafe import MAX_XML_BYTES, _parser, parse_xml

WORK = (
    b'<work:work xmlns:work="http://www.orcid.org/ns/work" xmlns:common="http://www.orcid.org/ns/common">'
    b"<work:title><common:title>%s</common:title></work:title><work:type>other</work:type></work:work>"
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<work:work xmlns:work="http://www.orcid.org/ns/work" xmlns:common="http://www.orcid.org/ns/common">
<work:title><common:title>&lol9;</common:title></work:title><work:type>other</work:type></work:work>"""


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).hits.append(self.path)
        body = b'<!ENTITY leak "FETCHED-FROM-NETWORK">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that records any fetch a parser might attempt."""
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return path


def test_a_normal_document_parses():
    assert parse_work(WORK % b"Fine").title == "Fine"


def test_billion_laughs_is_refused_without_expansion():
    with pytest.raises(XMLError, match="DTD or entities"):
        parse_work(BILLION_LAUGHS)


def test_external_file_entity_is_refused_and_never_read(secret_file):
    doc = (
        f'<!DOCTYPE work [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>'.encode()
        + WORK % b"&xxe;"
    )
    with pytest.raises(XMLError) as info:
        parse_work(doc)
    assert "TOP-SECRET" not in str(info.value)


def test_external_http_entity_is_refused_and_never_fetched(listener):
    url, hits = listener
    doc = f'<!DOCTYPE work [<!ENTITY xxe SYSTEM "{url}/entity">]>'.encode() + WORK % b"&xxe;"
    with pytest.raises(XMLError):
        parse_work(doc)
    assert hits == []


def test_external_dtd_is_refused_and_never_fetched(listener):
    url, hits = listener
    doc = f'<!DOCTYPE work SYSTEM "{url}/orcid.dtd">'.encode() + WORK % b"x"
    with pytest.raises(XMLError):
        parse_work(doc)
    assert hits == []


def test_parameter_entities_are_refused(listener):
    url, hits = listener
    doc = f'<!DOCTYPE work [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>'.encode() + WORK % b"&leak;"
    with pytest.raises(XMLError):
        parse_work(doc)
    assert hits == []


def test_a_plain_doctype_is_refused_too():
    with pytest.raises(XMLError, match="DTD"):
        parse_work(b"<!DOCTYPE work>" + WORK % b"x")


def test_declarations_in_utf16_are_caught_after_parsing():
    # The byte scan cannot see "<!DOCTYPE" in UTF-16; the check on the parsed tree does.
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE work [<!ENTITY a "b">]>'
    text += (WORK % b"&a;").decode()
    with pytest.raises(XMLError, match="DTD or entities"):
        parse_work(text.encode("utf-16"))


def test_the_parser_itself_neither_expands_nor_fetches(secret_file, listener):
    """Second layer: even without the DOCTYPE refusal, lxml is configured not to resolve."""
    url, hits = listener
    doc = (
        f'<!DOCTYPE r [<!ENTITY f SYSTEM "{secret_file.as_uri()}"><!ENTITY h SYSTEM "{url}/e">]>'
        "<r><a>&f;</a><b>&h;</b></r>"
    ).encode()
    root = etree.fromstring(doc, _parser())
    assert b"TOP-SECRET" not in etree.tostring(root)
    assert hits == []
    try:
        laughs = etree.fromstring(BILLION_LAUGHS, _parser())
    except etree.XMLSyntaxError as exc:  # newer libxml2 stops at its amplification limit
        assert "amplification" in str(exc)
    else:
        assert len(etree.tostring(laughs)) < 2000


def test_oversized_documents_are_refused_before_parsing():
    filler = b"a" * (MAX_XML_BYTES + 1)
    with pytest.raises(XMLError, match="limit"):
        parse_work(WORK % filler)


def test_the_size_cap_is_configurable():
    doc = WORK % b"x" * 1
    assert parse_xml(doc, max_bytes=len(doc)) is not None
    with pytest.raises(XMLError, match=f"limit is {len(doc) - 1} bytes"):
        parse_xml(doc, max_bytes=len(doc) - 1)


def test_absurd_nesting_is_refused():
    with pytest.raises(XMLError):
        parse_xml(b"<a>" * 5000 + b"</a>" * 5000)


@pytest.mark.parametrize(
    "body",
    [
        b"<work:work xmlns:work='http://www.orcid.org/ns/work'><work:title>",  # truncated
        b"<a><b></a></b>",  # mis-nested
        b"<a>&undefined;</a>",  # undeclared entity
        b'<a xmlns:x="urn:x"><y:b/></a>',  # unbound prefix
    ],
)
def test_malformed_xml_is_an_xml_error(body):
    with pytest.raises(XMLError, match="Not well-formed"):
        parse_work(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"title": "JSON, not XML"}',
        b"<html><body>Oops an error happened!</body></html>",
        b"plain text",
        b"\x00\x01\x02binary",
    ],
)
def test_non_xml_is_an_xml_error(body):
    with pytest.raises(XMLError):
        parse_work(body)


@pytest.mark.parametrize("body", [b"", b"   \n", None, 42])
def test_empty_and_non_bytes_input_are_xml_errors(body):
    with pytest.raises(XMLError):
        parse_xml(body)  # type: ignore[arg-type]


@pytest.mark.parametrize("parser", [parse_record, parse_person, parse_works])
def test_every_reader_uses_the_hardened_parser(parser):
    with pytest.raises(XMLError, match="DTD or entities"):
        parser(BILLION_LAUGHS)


def test_error_bodies_with_entities_do_not_raise_or_leak(secret_file):
    doc = f'<!DOCTYPE e [<!ENTITY x SYSTEM "{secret_file.as_uri()}">]><e>&x;</e>'.encode()
    info = parse_error(doc, "application/xml")
    assert "TOP-SECRET" not in repr(info)
    assert info.developer_message == "The error body could not be read safely."

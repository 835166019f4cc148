"""Validation against the published XSDs shipped in tests/schemas/ (see its README), offline:
every import a schema makes is answered from that folder, and anything else fails the test."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

SCHEMAS = Path(__file__).resolve().parent / "schemas"
XML_XSD = SCHEMAS / "datacite-4.7" / "include" / "xml.xsd"

#: Absolute schemaLocations in the published schemas -> the local copies.
LOCAL_COPIES = {
    "http://www.w3.org/2001/03/xml.xsd": XML_XSD,
    "http://www.w3.org/2001/xml.xsd": XML_XSD,
    "http://dublincore.org/schemas/xmls/simpledc20021212.xsd":
        SCHEMAS / "dcmi" / "simpledc20021212.xsd",
}


class LocalOnly(etree.Resolver):
    """Schema imports come from tests/schemas only; nothing may reach the network."""

    def resolve(self, url: str | None, pubid: str | None, context: Any) -> Any:
        if url in LOCAL_COPIES:
            return self.resolve_filename(str(LOCAL_COPIES[url]), context)
        path = Path(str(url).removeprefix("file://"))
        if path.is_absolute() and SCHEMAS in path.resolve().parents:
            return None  # a file of tests/schemas: the default loader reads it
        raise AssertionError(f"a schema import would leave tests/schemas: {url}")


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(LocalOnly())
    return parser


@cache
def schema(name: str) -> etree.XMLSchema:
    """``harvest.xsd`` (OAI-PMH with every metadata format) or ``datacite-4.7/metadata.xsd``."""
    path = SCHEMAS / name
    return etree.XMLSchema(etree.parse(str(path), _parser()))


def validate(document: bytes, name: str = "harvest.xsd") -> etree._Element:
    """Parse ``document``, assert it is valid against ``name``; return its root."""
    root = etree.fromstring(document, etree.XMLParser(no_network=True, resolve_entities=False))
    checker = schema(name)
    if not checker.validate(root):
        errors = "; ".join(str(e) for e in list(checker.error_log)[:5])
        raise AssertionError(f"not valid against {name}: {errors}")
    return root

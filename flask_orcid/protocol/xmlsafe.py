"""One hardened way to parse XML that came over the network.

ORCID's answers never carry a DTD, so any document that declares one (or entities) is refused
outright rather than parsed carefully: that closes entity-expansion bombs, external entities
(``file://``, ``http://``) and DTD fetches in one rule. The parser itself also resolves no
entities, loads no DTD and touches no network, and documents are capped in size.
"""

from __future__ import annotations

import re

from lxml import etree

from ..errors import XMLError

__all__ = ["MAX_XML_BYTES", "parse_xml"]

#: Default size cap. ORCID's largest answers (a bulk read of 100 full works) are well below it.
MAX_XML_BYTES = 10 * 1024 * 1024

_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers must not be shared between threads mid-parse.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def parse_xml(data: bytes | str, *, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse ``data`` and return its root element, or raise :class:`~flask_orcid.XMLError`.

    Refused: non-bytes input, more than ``max_bytes``, empty or malformed documents, and any
    document with a DOCTYPE or entity declaration.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise XMLError(f"Expected an XML document as bytes, got {type(data).__name__}.")
    if len(data) > max_bytes:
        raise XMLError(
            f"Refused an XML document of {len(data)} bytes: the limit is {max_bytes} bytes."
        )
    if not data.strip():
        raise XMLError("Expected an XML document, got an empty body.")
    if _DECLARATION.search(data):
        raise XMLError("Refused an XML document that declares a DTD or entities.")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XMLError(f"Not well-formed XML: {exc}") from None
    except ValueError as exc:  # e.g. an unsupported encoding declaration
        raise XMLError(f"Could not read the XML document: {exc}") from None
    if root is None:
        raise XMLError("Expected an XML document, found no root element.")
    docinfo = root.getroottree().docinfo
    # Catches declarations the byte scan cannot see (UTF-16 or UTF-32 documents).
    # lxml-stubs omit DocInfo.doctype, which lxml has always had.
    doctype = docinfo.doctype  # type: ignore[union-attr]
    if doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XMLError("Refused an XML document that declares a DTD or entities.")
    return root

"""ORCID's identifier normalization (``external-id-normalized``, grouping and the 9021 check).

A port of ``PIDNormalizationService`` (ORCID-Source:
orcid-core/src/main/java/org/orcid/core/utils/v3/identifiers/PIDNormalizationService.java:77):
the normalizers run in order, ``CaseSensitiveNormalizer`` first (HIGHEST_PRECEDENCE), then the
type's own normalizer. A normalizer that does not recognise the value returns "" (here: None).
Java's ``Matcher.find`` is ``re.search``; Java's ``\\d``, ``\\w`` and ``\\s`` are ASCII-only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

#: Types whose ``identifier_type.case_sensitive`` is true; every other type is lower-cased first
#: (CaseSensitiveNormalizer.java:43). Sources, all in ORCID-Source
#: orcid-persistence/src/main/resources/db/updates/: uri_id_type_case_sensitive.xml:5 (so URIs
#: are NOT lower-cased), identifier-types/make-bibcode-case-sensitive.xml:8,
#: identifier-types/update-to-https.xml:20 (rrid), identifier-types/identifier-type-41-ark.xml:24,
#: -46-empiar.xml:9, -48-emdb.xml:9, -50-k10plus.xml:9, -51-cgn.xml:9,
#: update-ethos-to-be-case-sensitive.xml:8, update-ol-to-be-case-sensitive.xml:8.
CASE_SENSITIVE = frozenset({"ark", "bibcode", "cgn", "emdb", "empiar", "ethos", "k10plus", "ol",
                            "rrid", "uri"})

_A = re.ASCII
# ArxivNormalizer.java:16
_ARXIV = re.compile(r"(?:(?i:arXiv:))?(\d{4}\.\d{4,5}(v\d)?|[\w\-.]+/\d{7}(v\d)?)\b", _A)
# BibcodeNormalizer.java:16
_BIBCODE = re.compile(r"(?:^|[Bb][Ii][Bb][Bc][Oo][Dd][Ee]:?\s*|[^a-zA-Z0-9.])"
                      r"([0-9]{4}[.a-zA-Z0-9]{15})(?:$|[^a-zA-Z0-9.])", _A)
# CurieNormalizer.java:16 (rrid)
_RRID = re.compile(r"(?:(?i:RRID:))?(AB_\d{6}|CVCL_[0-9A-Z]{4}|SCR_\d{6}|IMSR_JAX:\d{6}|"
                   r"Addgene_\d{5}|SAMN\d{8}|MMRRC_\d{6}-UCD)", _A)
# DOINormalizer.java:17
_DOI = re.compile(r"(10(\.[0-9a-zA-Z]+)+/(?:(?![\"&'])\S)+)", _A)
# ISBNNormalizer.java:20
_ISBN = re.compile(r"([0-9][-0-9 ]{8,15}[0-9xX])(?:$|[^0-9])", _A)
# ISSNNormalizer.java:16
_ISSN = re.compile(r"(?:^|[^\d])(\d{4} ?[-–]? ?\d{3}[\dXx])(?:$|[^-\d])", _A)
# PMCNormalizer.java:16
_PMC = re.compile(r"(?:^|[Pp][Mm][Cc]-?/?)\s*(\d{5,9}(?!.+PMC))(?:$|\b)", _A)
# PMIDNormalizer.java:17
_PMID = re.compile(r"(?:^\s*|PMID:?\s*|pubmed/|med/|pubmed.ncbi.nlm.nih.gov/)(\d+)"
                   r"(?:$|[^a-zA-Z0-9.\-])", _A | re.IGNORECASE)
# URINormalizer.java:16
_URI = re.compile(r"^(?:(ht|f)tp(s?)://)?", _A)


def _group(pattern: re.Pattern[str], value: str, prefix: str = "") -> str:
    match = pattern.search(value)
    return prefix + match.group(1) if match else ""


def _doi(value: str) -> str:
    if "&" in value and ";" in value:  # "could be html escaped, and more than once!" (:30)
        while True:
            unescaped = html.unescape(value)
            if len(unescaped) >= len(value):
                break
            value = unescaped
    return _group(_DOI, value)


def _isbn(value: str) -> str:
    n = _group(_ISBN, value).replace("-", "").replace(" ", "").replace("x", "X")
    return n if len(n) in (10, 13) else ""  # ISBNNormalizer.java:43


def _issn(value: str) -> str:
    n = _group(_ISSN, value)
    for ch in (" ", "-", "–"):
        n = n.replace(ch, "")
    n = n.replace("x", "X")
    return f"{n[:4]}-{n[4:8]}" if n else ""  # ISSNNormalizer.java:40


def _uri(value: str) -> str:
    match = _URI.search(value)
    return value if match and match.group(1) is not None else "http://" + value


_BY_TYPE: dict[str, Callable[[str], str]] = {
    "arxiv": lambda v: _group(_ARXIV, v, "arXiv:"),
    "bibcode": lambda v: _group(_BIBCODE, v),
    "rrid": lambda v: _group(_RRID, v, "RRID:"),
    "doi": _doi,
    "isbn": _isbn,
    "issn": _issn,
    "pmc": lambda v: _group(_PMC, v),
    "pmid": lambda v: _group(_PMID, v),
    "uri": _uri,
}


def normalize_id(id_type: str | None, value: str | None) -> str | None:
    """ORCID's normalized value; None when ORCID's normalizer returns "" (not recognised)."""
    if id_type is None or value is None:
        return value
    if id_type not in CASE_SENSITIVE:
        value = value.lower()
    normalizer = _BY_TYPE.get(id_type)
    result = normalizer(value) if normalizer else value
    return result or None


def id_key(ext: dict[str, Any]) -> tuple[str, str]:
    """What ``ExternalID.equals`` compares: the type, then the normalized value when there is
    one, else the value as sent (ORCID orcid-model:
    src/main/java/org/orcid/jaxb/model/v3/release/record/ExternalID.java:173-199)."""
    normalized = normalize_id(ext.get("type"), ext.get("value"))
    return ext.get("type") or "", normalized if normalized else (ext.get("value") or "")


def self_keys(data: dict[str, Any]) -> set[tuple[str | None, str, str]]:
    """Keys of the ids ORCID's duplicate check compares: ids match when both are ``self`` or
    both have no relationship (ActivityValidator.java:556, :568-574)."""
    return {(e.get("relationship"), *id_key(e)) for e in data.get("external_ids", [])
            if e.get("relationship") in ("self", None)}

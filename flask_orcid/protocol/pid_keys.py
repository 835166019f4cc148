"""How ORCID normalizes an external identifier before its duplicate check (409/9021).

ORCID compares two ids by type, then by their *normalized* values when it has them, else by the
values as sent (orcid-model ExternalID.java:173-199). The normalized value comes from
``PIDNormalizationService`` (ORCID-Source orcid-core/src/main/java/org/orcid/core/utils/v3/
identifiers/PIDNormalizationService.java:77-85): ``CaseSensitiveNormalizer`` first lower-cases
every type that is not case-sensitive, then the type's own normalizer extracts the identifier
(``normalizers/*.java``). A normalizer that does not recognise the value gives "", and ORCID then
compares the raw value. The patterns below are ORCID's, in Python syntax; Java's ``\\d``, ``\\w``
and ``\\s`` are ASCII-only, hence ``re.ASCII``.

This is the client's own copy: the emulator has its own, and the two share no code.
"""

from __future__ import annotations

import html
import re

__all__ = ["CASE_SENSITIVE_TYPES", "normalized_id"]

#: ``identifier_type.case_sensitive`` is true for these (ORCID-Source orcid-persistence/src/main/
#: resources/db/updates/uri_id_type_case_sensitive.xml:5 for uri; identifier-types/*.xml and
#: update-ethos-/update-ol-to-be-case-sensitive.xml for the rest). URIs keep their case.
CASE_SENSITIVE_TYPES: frozenset[str] = frozenset(
    {"ark", "bibcode", "cgn", "emdb", "empiar", "ethos", "k10plus", "ol", "rrid", "uri"}
)

_FLAGS = re.ASCII


# normalizers/ArxivNormalizer.java:16, BibcodeNormalizer.java:16, CurieNormalizer.java:16 (rrid),
# DOINormalizer.java:17, PMCNormalizer.java:16, PMIDNormalizer.java:17.
_EXTRACT: dict[str, tuple[re.Pattern[str], str]] = {
    "arxiv": (re.compile(r"(?:(?i:arXiv:))?(\d{4}\.\d{4,5}(v\d)?|[\w\-.]+/\d{7}(v\d)?)\b", _FLAGS), "arXiv:"),
    "bibcode": (
        re.compile(
            r"(?:^|[Bb][Ii][Bb][Bc][Oo][Dd][Ee]:?\s*|[^a-zA-Z0-9.])([0-9]{4}[.a-zA-Z0-9]{15})(?:$|[^a-zA-Z0-9.])",
            _FLAGS,
        ),
        "",
    ),
    "rrid": (
        re.compile(
            r"(?:(?i:RRID:))?(AB_\d{6}|CVCL_[0-9A-Z]{4}|SCR_\d{6}|IMSR_JAX:\d{6}|Addgene_\d{5}|SAMN\d{8}|MMRRC_\d{6}-UCD)",
            _FLAGS,
        ),
        "RRID:",
    ),
    "doi": (re.compile(r"(10(\.[0-9a-zA-Z]+)+/(?:(?![\"&'])\S)+)", _FLAGS), ""),
    "pmc": (re.compile(r"(?:^|[Pp][Mm][Cc]-?/?)\s*(\d{5,9}(?!.+PMC))(?:$|\b)", _FLAGS), ""),
    "pmid": (
        re.compile(r"(?:^\s*|PMID:?\s*|pubmed/|med/|pubmed.ncbi.nlm.nih.gov/)(\d+)(?:$|[^a-zA-Z0-9.\-])", _FLAGS | re.I),
        "",
    ),
}
_ISBN = re.compile(r"([0-9][-0-9 ]{8,15}[0-9xX])(?:$|[^0-9])", _FLAGS)  # ISBNNormalizer.java:20
_ISSN = re.compile(r"(?:^|[^\d])(\d{4} ?[-–]? ?\d{3}[\dXx])(?:$|[^-\d])", _FLAGS)  # ISSNNormalizer.java:16
_URI_SCHEME = re.compile(r"^(?:(ht|f)tp(s?)://)?", _FLAGS)  # URINormalizer.java:16


def _unescape_html(value: str) -> str:
    """DOINormalizer.java:30-38: a DOI "could be html escaped, and more than once!"."""
    if "&" not in value or ";" not in value:
        return value
    shorter = html.unescape(value)
    while len(shorter) < len(value):
        value, shorter = shorter, html.unescape(shorter)
    return value


def _by_type(kind: str, value: str) -> str:
    if kind == "isbn":  # ISBNNormalizer.java:35-45: only 10 or 13 characters count
        found = _ISBN.search(value)
        digits = found.group(1).replace("-", "").replace(" ", "").replace("x", "X") if found else ""
        return digits if len(digits) in (10, 13) else ""
    if kind == "issn":  # ISSNNormalizer.java:30-42: NNNN-NNNC
        found = _ISSN.search(value)
        if not found:
            return ""
        digits = re.sub("[ \\-–]", "", found.group(1)).replace("x", "X")
        return f"{digits[:4]}-{digits[4:]}"
    if kind == "uri":  # URINormalizer.java:27-36: http:// unless it starts with http(s)/ftp(s)
        scheme = _URI_SCHEME.search(value)
        return value if scheme is not None and scheme.group(1) is not None else "http://" + value
    if kind in _EXTRACT:
        pattern, prefix = _EXTRACT[kind]
        found = pattern.search(_unescape_html(value) if kind == "doi" else value)
        return prefix + found.group(1) if found else ""
    return value


def normalized_id(kind: str, value: str) -> str:
    """The value ORCID's duplicate check compares for an id of type ``kind``.

    ORCID's normalized value, or the value as sent when ORCID's normalizer gives nothing.
    """
    lowered = value if kind in CASE_SENSITIVE_TYPES else value.lower()
    return _by_type(kind, lowered) or value

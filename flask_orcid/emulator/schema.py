"""What ORCID refuses while reading a body, before its business rules run.

ORCID unmarshals XML with the XSD attached (ORCID-Source:
orcid-api-common/src/main/java/org/orcid/api/common/jaxb/OrcidValidationJaxbContextResolver.java:185-188).
Its handler (same file :321-333) turns an XSD error into ``OrcidBadRequestException`` (400/9012,
OrcidCoreExceptionMapper.java:60) and an enum adapter's failure into ``IllegalEnumValueException``
(400/9051, OrcidCoreExceptionMapper.java:77). JSON is read by Jackson and then validated against
the same XSD; every failure there becomes ``InvalidJSONException`` (400/9047;
OrcidJacksonJaxbJsonProvider.java:68-69, JSONInputValidator.java:137-155,
OrcidCoreExceptionMapper.java:74).

The XSDs are not shipped with the emulator: the constraints below are explicit rules, each naming
the XSD type (orcid-model common_3.0/common-3.0.xsd, record_3.0/work-3.0.xsd) it comes from.

Bulk bodies are unmarshalled WITHOUT the schema (OrcidValidationJaxbContextResolver.java:177-183)
and without the handler, so JAXB's default handler drops a bad enum value (the field becomes
null) and the work goes on to ActivityValidator: ``lenient=True`` imitates that.
"""

from __future__ import annotations

import re
from typing import Any

from .rules import (
    CITATION_TYPES,
    COUNTRIES,
    LANGUAGES,
    RELATIONSHIPS,
    SEQUENCES,
    VISIBILITIES,
    WORK_TYPE_ALIASES,
    WORK_TYPES,
    ApiError,
)

# Enums validated by orcid-model's XmlAdapters (src/main/java/org/orcid/jaxb/model/common/
# adapters/*Adapter.java), keyed by the Java enum the error message names.
_ENUMS: dict[str, frozenset[str]] = {
    "WorkType": WORK_TYPES | frozenset(WORK_TYPE_ALIASES),
    "LanguageCode": LANGUAGES,
    "Iso3166Country": COUNTRIES,
    "CitationType": CITATION_TYPES,
    "Relationship": RELATIONSHIPS,
    "SequenceType": SEQUENCES,
}


_NOT_URI = re.compile(r"%(?![0-9A-Fa-f]{2})|#.*#")


class Reader:
    """Raises the error ORCID's reader raises for a body of format ``fmt`` ("xml"|"json")."""

    def __init__(self, fmt: str, lenient: bool = False):
        self.fmt = fmt
        self.lenient = lenient

    def xsd(self, message: str) -> ApiError:
        if self.fmt == "json":
            return ApiError(400, 9047, f"400 Bad request: invalid JSON - {message}",
                            "Invalid JSON.")
        return ApiError(400, 9012, "The client application made a bad request to the ORCID "
                        f"API. Full validation error: {message}",
                        "The client application made a bad request to the ORCID API.")

    def enum(self, holder: dict[str, Any], key: str, enum: str, drop_to: Any = None) -> None:
        value = holder.get(key)
        if value is None or value in _ENUMS[enum]:
            return
        if self.lenient:
            holder[key] = drop_to
            return
        message = f"invalid value '{value}' for enum '{enum}'"
        if self.fmt == "json":
            raise self.xsd(f"Cannot deserialize value of type {enum}: {message}")
        raise ApiError(400, 9051, f"400 Bad request: {message}", "Invalid value for type.")

    def text(self, value: str | None, label: str, limit: int | None,
             non_empty: bool = False) -> None:
        """``common:non-empty-string`` (pattern ``[\\s\\S]*[^\\s\\n\\r]+[\\s\\S]*``) and maxLength."""
        if value is None or self.lenient:
            return
        if non_empty and not value.strip():
            raise self.xsd(f"cvc-pattern-valid: Value '{value}' of {label} is not facet-valid "
                           "with respect to pattern '[\\s\\S]*[^\\s\\n\\r]+[\\s\\S]*' for type "
                           "'non-empty-string'.")
        if limit is not None and len(value) > limit:
            raise self.xsd(f"cvc-maxLength-valid: Value of {label} with length = '{len(value)}' "
                           f"is not facet-valid with respect to maxLength '{limit}'.")

    def uri(self, value: str | None, label: str) -> None:
        """``xs:anyURI`` (common:url, external-id-url; common-3.0.xsd:353-361, :1038): the schema
        validator refuses a '%' not followed by two hex digits and a second '#'."""
        if value is None or self.lenient:
            return
        if _NOT_URI.search(value):
            raise self.xsd(f"cvc-datatype-valid.1.2.1: '{value}' is not a valid value for "
                           f"'anyURI' ({label}).")

    def visibility(self, value: Any) -> None:
        """``common:visibility`` is an XSD enumeration (common-3.0.xsd:532)."""
        if value is not None and value not in VISIBILITIES and not self.lenient:
            raise self.xsd(f"cvc-enumeration-valid: Value '{value}' is not facet-valid with "
                           "respect to enumeration '[private, limited, public, "
                           "registered-only]'.")


def check_work(data: dict[str, Any], visibility: Any, reader: Reader) -> None:
    reader.visibility(visibility)
    reader.text(data.get("title"), "title", 1000)            # common:string-1000
    reader.text(data.get("subtitle"), "subtitle", 1000)      # common:subtitle maxLength 1000
    if data.get("translated_title") is not None or data.get("translated_title_language"):
        # common:translated-title: string-with-lang-code (non-empty, @language-code required)
        reader.text(data.get("translated_title") or "", "translated-title", 1000, True)
        if not data.get("translated_title_language") and not reader.lenient:
            raise reader.xsd("cvc-complex-type.4: Attribute 'language-code' must appear on "
                             "element 'common:translated-title'.")
        reader.enum(data, "translated_title_language", "LanguageCode")
    reader.text(data.get("journal_title"), "journal-title", 1000, True)  # common:string-1000
    reader.text(data.get("short_description"), "short-description", 5000)
    reader.enum(data, "citation_type", "CitationType")
    reader.enum(data, "type", "WorkType")
    reader.enum(data, "language_code", "LanguageCode")
    # Work.country holds a Country whose value is null after a dropped enum: ActivityValidator
    # then answers 9037 (ActivityValidator.java:102-109), which "" reproduces in rules.py.
    reader.enum(data, "country", "Iso3166Country", drop_to="")
    reader.uri(data.get("url"), "url")
    _ext_ids(data, reader)
    for contributor in data.get("contributors", []):
        # common:credit-name extends common:string-150 (non-empty, max 150)
        reader.text(contributor.get("credit_name"), "credit-name", 150, True)
        reader.enum(contributor, "sequence", "SequenceType")


def check_affiliation(data: dict[str, Any], visibility: Any, reader: Reader) -> None:
    reader.visibility(visibility)
    # common:affiliation: department-name and role-title are common:long-text
    # (non-empty-string, maxLength 4000; common-3.0.xsd:800-808)
    reader.text(data.get("department_name"), "department-name", 4000, True)
    reader.text(data.get("role_title"), "role-title", 4000, True)
    org = data.get("organization")
    if org:
        # common:organization: name, city and region are common:long-text; the disambiguated
        # id and source are common:short-text (maxLength 500; common-3.0.xsd:180-240, :698)
        for key, label in (("name", "name"), ("city", "city"), ("region", "region")):
            reader.text(org.get(key), label, 4000, True)
        reader.text(org.get("disambiguated_id"), "disambiguated-organization-identifier", 500)
        reader.text(org.get("disambiguation_source"), "disambiguation-source", 500)
        reader.enum(org, "country", "Iso3166Country", drop_to="")
    reader.uri(data.get("url"), "url")
    _ext_ids(data, reader)


def _ext_ids(data: dict[str, Any], reader: Reader) -> None:
    for ext in data.get("external_ids", []):
        reader.enum(ext, "relationship", "Relationship")
        # external-id-type and -value are common:non-empty-string (common-3.0.xsd:1034-1035)
        reader.text(ext.get("type"), "external-id-type", None, True)
        reader.text(ext.get("value"), "external-id-value", None, True)
        reader.uri(ext.get("url"), "external-id-url")

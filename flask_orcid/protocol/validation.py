"""ORCID's server-side rules for works and affiliations (API-FACTS §5, §6).

The XSD accepts much that ORCID's ActivityValidator refuses (unknown work types, ids without a
relationship, education without a disambiguated organization, …). These checks run before an
item is serialized, so a site learns *which field* is wrong instead of queueing a delivery that
can only fail. Each function returns ``(field, message)`` pairs; the model raises the first.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .identifiers import normalize_doi, normalize_handle, parse_orcid_id
from .item_fields import AffiliationFields, WorkFields
from .values import Contributor, ExternalId, FuzzyDate, Organization
from .vocabulary import (
    AFFILIATION_SECTIONS,
    CITATION_TYPES,
    CONTRIBUTOR_ROLES,
    CONTRIBUTOR_SEQUENCES,
    COUNTRY_CODES,
    CREDIT_ROLE_BASE,
    DISAMBIGUATION_SOURCES,
    EXTERNAL_ID_TYPES,
    FUNDED_BY_TYPES,
    LANGUAGE_CODES,
    RELATIONSHIPS,
    STRICT_AFFILIATION_SECTIONS,
    VISIBILITIES,
    WORK_TYPE_ALIASES,
    WORK_TYPES,
)

Problems = list[tuple[str, str]]

# Characters XML 1.0 cannot carry; lxml would refuse them with a less helpful message.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ROR = re.compile(r"^https://ror\.org/0[a-z0-9]{6}\d{2}$")
# A conservative cap on URLs and id values: common:string-2084 is ORCID's widest URL type, and
# over-long values fail in ORCID's database with a 500 (API-FACTS §7). The exact column sizes
# are UNCONFIRMED, so the cap errs on the side of refusing early.
MAX_URL = 2084


class _Checker:
    def __init__(self) -> None:
        self.found: Problems = []

    def add(self, name: str, message: str) -> None:
        self.found.append((name, f"{name}: {message}"))

    def text(
        self, name: str, value: object, *, limit: int, required: bool = False, label: str = ""
    ) -> None:
        """A string field: present when required, not blank when given, within ORCID's limit."""
        what = label or "this field"
        if value is None:
            if required:
                self.add(name, f"ORCID requires {what}.")
            return
        if not isinstance(value, str):
            self.add(name, f"expected text, got {type(value).__name__}.")
            return
        if not value.strip():
            self.add(name, f"ORCID requires {what}." if required else "must not be blank; leave it out instead.")
            return
        if len(value) > limit:
            self.add(name, f"ORCID allows at most {limit} characters; this has {len(value)}.")
        bad = _NOT_XML.search(value)
        if bad:
            self.add(name, f"contains the control character {bad.group(0)!r}, which XML cannot carry.")

    def choice(self, name: str, value: object, allowed: frozenset[str], what: str) -> None:
        if value is None:
            return
        if value not in allowed:
            hint = ""
            if isinstance(value, str) and value.lower() in allowed:
                hint = f" (did you mean {value.lower()!r}?)"
            elif isinstance(value, str) and value.upper() in allowed:
                hint = f" (did you mean {value.upper()!r}?)"
            self.add(name, f"{value!r} is not {what} ORCID accepts{hint}.")

    def url(self, name: str, value: object) -> None:
        if value is None:
            return
        self.text(name, value, limit=MAX_URL)
        if not isinstance(value, str) or not value.strip():
            return
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", value.strip()):
            self.add(name, f"{value!r} is not an absolute http(s) URL.")

    def date(self, name: str, value: FuzzyDate | None) -> None:
        if value is None:
            return
        problem = value.problem()
        if problem:
            self.add(name, f"{problem}.")

    def put_code(self, value: object) -> None:
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
            self.add("put_code", f"must be a positive whole number, not {value!r}.")

    def visibility(self, value: object) -> None:
        # Never written (the researcher's default applies); only sanity-checked when read back.
        self.choice("visibility", value, VISIBILITIES, "a visibility")

    def external_ids(self, items: list[ExternalId], *, require_self: bool) -> None:
        if require_self:
            if not items:
                self.add(
                    "external_ids",
                    "ORCID requires at least one external identifier (the thesis handle or DOI) "
                    "with relationship 'self'.",
                )
                return
            if not any(getattr(x, "relationship", None) == "self" for x in items):
                self.add(
                    "external_ids",
                    "ORCID requires at least one identifier with relationship 'self'.",
                )
        for index, item in enumerate(items):
            self.external_id(f"external_ids[{index}]", item)

    def external_id(self, prefix: str, item: ExternalId) -> None:
        kind, value, relationship = item.type, item.value, item.relationship
        if not isinstance(kind, str) or not kind.strip():
            self.add(f"{prefix}.type", "ORCID requires the identifier type (doi, handle, uri, …).")
        else:
            self.choice(f"{prefix}.type", kind, EXTERNAL_ID_TYPES, "an identifier type")
        self.text(f"{prefix}.value", value, limit=MAX_URL, required=True, label="the identifier value")
        if relationship is None or relationship == "":
            self.add(
                f"{prefix}.relationship",
                "ORCID requires a relationship: self, part-of, version-of or funded-by.",
            )
        else:
            self.choice(f"{prefix}.relationship", relationship, RELATIONSHIPS, "a relationship")
            if relationship == "funded-by" and kind not in FUNDED_BY_TYPES:
                self.add(
                    f"{prefix}.relationship",
                    f"ORCID accepts 'funded-by' only for {', '.join(sorted(FUNDED_BY_TYPES))} ids, "
                    f"not {kind!r}.",
                )
        self.url(f"{prefix}.url", item.url)
        if isinstance(value, str) and value.strip():
            if kind == "doi":
                try:
                    normalize_doi(value)
                except ValueError as exc:
                    self.add(f"{prefix}.value", str(exc))
            elif kind == "handle":
                # ORCID only lower-cases handles, so a prefixed one escapes its duplicate check.
                try:
                    bare = normalize_handle(value)
                except ValueError as exc:
                    self.add(f"{prefix}.value", str(exc))
                else:
                    if bare != value.strip():
                        self.add(
                            f"{prefix}.value",
                            f"send the bare handle {bare!r}, not {value!r} (normalize_handle() "
                            f"does this); put the resolver link in url.",
                        )

    def organization(self, prefix: str, org: Organization, *, strict: bool) -> None:
        self.text(f"{prefix}.name", org.name, limit=4000, required=True, label="the organization's name")
        self.text(f"{prefix}.city", org.city, limit=4000, required=strict, label="the organization's city")
        self.text(f"{prefix}.region", org.region, limit=4000)
        if org.country is None:
            if strict:
                self.add(f"{prefix}.country", "ORCID requires the organization's country (ISO code such as US).")
            elif org.city is not None or org.region is not None:
                self.add(f"{prefix}.country", "ORCID requires a country when a city or region is given.")
        else:
            self.choice(f"{prefix}.country", org.country, COUNTRY_CODES, "an ISO 3166-1 alpha-2 country code")
        oid, source = org.disambiguated_id, org.disambiguation_source
        if strict and (oid is None or source is None):
            self.add(
                f"{prefix}.disambiguated_id",
                "ORCID requires a disambiguated organization id for education and employment; "
                "give the ROR id (https://ror.org/…) and disambiguation_source='ROR'.",
            )
        if (oid is None) != (source is None):
            missing = "disambiguation_source" if source is None else "disambiguated_id"
            self.add(f"{prefix}.{missing}", "give both disambiguated_id and disambiguation_source.")
        if oid is not None:
            self.text(f"{prefix}.disambiguated_id", oid, limit=500, required=True, label="the organization id")
        if source is not None:
            self.choice(f"{prefix}.disambiguation_source", source, DISAMBIGUATION_SOURCES, "a disambiguation source")
        if source == "ROR" and isinstance(oid, str) and oid.strip() and not _ROR.match(oid.strip()):
            self.add(
                f"{prefix}.disambiguated_id",
                f"ORCID stores ROR ids as full URIs like https://ror.org/052gg0110, not {oid!r}.",
            )

    def contributor(self, prefix: str, person: Contributor) -> None:
        if person.credit_name is None and person.orcid is None:
            self.add(prefix, "a contributor needs a credit_name or an ORCID iD.")
        self.text(f"{prefix}.credit_name", person.credit_name, limit=150)
        if person.orcid is not None:
            try:
                canonical = parse_orcid_id(person.orcid)
            except ValueError as exc:
                self.add(f"{prefix}.orcid", str(exc))
            else:
                if canonical != person.orcid:
                    self.add(f"{prefix}.orcid", f"write the bare iD {canonical!r}.")
        self.choice(f"{prefix}.sequence", person.sequence, CONTRIBUTOR_SEQUENCES, "a contributor sequence")
        role = person.role
        if role is not None and role not in CONTRIBUTOR_ROLES:
            hint = ""
            if isinstance(role, str) and role.startswith(CREDIT_ROLE_BASE.rstrip("/")):
                hint = " CRediT roles are full URIs ending in a slash, e.g. " + CREDIT_ROLE_BASE + "supervision/."
            self.add(f"{prefix}.role", f"{role!r} is not a contributor role ORCID accepts.{hint}")


def work_problems(work: WorkFields) -> Problems:
    """Everything in ``work`` that ORCID's API would refuse on POST or PUT."""
    check = _Checker()
    check.text("title", work.title, limit=1000, required=True, label="a title")
    check.text("subtitle", work.subtitle, limit=1000)
    check.text("translated_title", work.translated_title, limit=1000)
    if work.translated_title is not None and work.translated_title_language is None:
        check.add("translated_title_language", "a translated title needs its language code.")
    if work.translated_title_language is not None:
        if work.translated_title is None:
            check.add("translated_title", "a translated title language was given without the title.")
        check.choice("translated_title_language", work.translated_title_language, LANGUAGE_CODES, "a language code")
    check.text("journal_title", work.journal_title, limit=1000)
    check.text("short_description", work.short_description, limit=5000)
    if (work.citation_type is None) != (work.citation_value is None):
        missing = "citation_value" if work.citation_value is None else "citation_type"
        check.add(missing, "give both citation_type and citation_value.")
    check.choice("citation_type", work.citation_type, CITATION_TYPES, "a citation type")
    if work.citation_value is not None:
        check.text("citation_value", work.citation_value, limit=1_000_000, required=True, label="the citation")
    if not isinstance(work.type, str) or not work.type:
        check.add("type", "ORCID requires a work type; a thesis is 'dissertation-thesis'.")
    elif work.type not in WORK_TYPES and work.type not in WORK_TYPE_ALIASES:
        hint = " (a thesis is 'dissertation-thesis')" if work.type in ("dissertation", "thesis") else ""
        check.add("type", f"{work.type!r} is not a work type ORCID accepts{hint}.")
    check.date("publication_date", work.publication_date)
    check.external_ids(work.external_ids, require_self=True)
    check.url("url", work.url)
    for index, person in enumerate(work.contributors):
        check.contributor(f"contributors[{index}]", person)
    check.choice("language_code", work.language_code, LANGUAGE_CODES, "a language code")
    check.choice("country", work.country, COUNTRY_CODES, "an ISO 3166-1 alpha-2 country code")
    check.put_code(work.put_code)
    check.visibility(work.visibility)
    return check.found


def affiliation_problems(item: AffiliationFields) -> Problems:
    """Everything in ``item`` that ORCID's API would refuse (ActivityValidator#validateAffiliation)."""
    check = _Checker()
    if item.section not in AFFILIATION_SECTIONS:
        check.add("section", f"{item.section!r} is not one of {', '.join(AFFILIATION_SECTIONS)}.")
        return check.found
    strict = item.section in STRICT_AFFILIATION_SECTIONS
    if item.organization is None:
        if strict:
            check.add("organization", f"ORCID requires the organization for {item.section}.")
        elif not item.external_ids:
            check.add(
                "organization",
                f"ORCID requires a disambiguated organization or external ids for {item.section}.",
            )
    else:
        check.organization("organization", item.organization, strict=strict)
        if not strict and item.organization.disambiguated_id is None and not item.external_ids:
            check.add(
                "organization.disambiguated_id",
                f"ORCID requires a disambiguated organization or external ids for {item.section}.",
            )
    check.text("department", item.department, limit=4000)
    check.text("role_title", item.role_title, limit=4000)
    check.date("start_date", item.start_date)
    check.date("end_date", item.end_date)
    if item.end_date is not None and item.start_date is None:
        check.add("start_date", "ORCID requires a start date when an end date is given.")
    if item.start_date is not None and item.end_date is not None:
        if _after(item.start_date, item.end_date):
            check.add("end_date", f"ends ({item.end_date}) before it starts ({item.start_date}).")
    check.url("url", item.url)
    check.external_ids(item.external_ids, require_self=False)
    check.put_code(item.put_code)
    check.visibility(item.visibility)
    return check.found


def _after(start: FuzzyDate, end: FuzzyDate) -> bool:
    """True when ``start`` is later than ``end``, comparing only the parts both dates have."""
    for a, b in ((start.year, end.year), (start.month, end.month), (start.day, end.day)):
        if a is None or b is None:
            return False
        if a != b:
            return a > b
    return False

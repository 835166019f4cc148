"""ORCID's server-side rules for works and affiliations (API-FACTS §5, §6).

The XSD accepts much that ORCID's ActivityValidator refuses (unknown work types, ids without a
relationship, education without a disambiguated organization, …). These checks run before an
item is serialized, so a site learns *which field* is wrong instead of queueing a delivery that
can only fail. Each function returns ``(field, message)`` pairs; the model raises the first.

The rules are ORCID's (ORCID-Source ActivityValidator.java, ExternalIDValidator.java and the
orcid-model XSDs; ``AV`` below is orcid-core/src/main/java/org/orcid/core/manager/v3/validator/
ActivityValidator.java). A few are this library's own, stricter than ORCID, because a
repository's own data needs them; their messages say so (:data:`OWN_RULE`) and
docs/validation.md lists them. This module shares no code with the emulator's checks.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .identifiers import normalize_handle, parse_orcid_id
from .item_fields import AffiliationFields, WorkFields
from .values import Contributor, ExternalId, FuzzyDate, Organization
from .vocabulary import (
    AFFILIATION_SECTIONS,
    CITATION_TYPES,
    CONTRIBUTOR_SEQUENCES,
    COUNTRY_CODES,
    CREDIT_ROLE_BASE,
    CREDIT_ROLES,
    DISAMBIGUATION_SOURCES,
    EXTERNAL_ID_TYPES,
    FUNDED_BY_TYPES,
    LANGUAGE_CODES,
    LEGACY_CONTRIBUTOR_ROLES,
    RELATIONSHIPS,
    STRICT_AFFILIATION_SECTIONS,
    VISIBILITIES,
    WORK_TYPE_ALIASES,
    WORK_TYPES,
)

Problems = list[tuple[str, str]]

# Characters XML 1.0 cannot carry; lxml would refuse them with a less helpful message.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ORCID_PATH = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")  # OrcidStringUtils.ORCID_STRING
_BAD_URI = re.compile(r"%(?![0-9A-Fa-f]{2})|#.*#")
_ROR = re.compile(r"^https://ror\.org/0[a-z0-9]{6}\d{2}$")
# A conservative cap on URLs and id values: common:string-2084 is ORCID's widest URL type, and
# over-long values fail in ORCID's database with a 500 (API-FACTS §7). The exact column sizes
# are UNCONFIRMED, so the cap errs on the side of refusing early.
MAX_URL = 2084

#: Appended to the message of a rule that is this library's, not ORCID's.
OWN_RULE = " (this is flask-orcid's own rule, stricter than ORCID's; see docs/validation.md)"


class _Checker:
    def __init__(self) -> None:
        self.found: Problems = []

    def add(self, name: str, message: str) -> None:
        self.found.append((name, f"{name}: {message}"))

    def text(
        self,
        name: str,
        value: object,
        *,
        limit: int,
        required: bool = False,
        label: str = "",
        blank_ok: bool = False,
    ) -> None:
        """A string field: present when required, within ORCID's limit, and not blank when given
        unless its XSD type allows blanks (``blank_ok``; most are ``common:non-empty-string``)."""
        what = label or "this field"
        if value is None:
            if required:
                self.add(name, f"ORCID requires {what}.")
            return
        if not isinstance(value, str):
            self.add(name, f"expected text, got {type(value).__name__}.")
            return
        if not value.strip():
            if required:
                self.add(name, f"ORCID requires {what}.")
            elif not blank_ok:
                self.add(name, "must not be blank; leave it out instead (ORCID refuses a blank value).")
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
        """ORCID's XSD types URLs as ``xs:anyURI``, which takes relative paths and even blanks; the
        links a repository sends are its own landing pages, so this library wants them absolute."""
        if value is None:
            return
        if isinstance(value, str) and len(value) > MAX_URL:
            self.add(name, f"at most {MAX_URL} characters; this has {len(value)}{OWN_RULE}.")
            return
        if not isinstance(value, str):
            self.add(name, f"expected text, got {type(value).__name__}.")
            return
        try:
            parts = urlsplit(value.strip())
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", value.strip()):
            self.add(name, f"{value!r} is not an absolute http(s) URL{OWN_RULE}.")
        elif _BAD_URI.search(value):
            # xs:anyURI (common-3.0.xsd:353-361): ORCID's schema check refuses these (400/9012).
            self.add(name, f"{value!r} is not a valid URI (a stray '%' or a second '#').")
        bad = _NOT_XML.search(value)
        if bad:
            self.add(name, f"contains the control character {bad.group(0)!r}, which XML cannot carry.")

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

    def external_ids(self, items: list[ExternalId]) -> None:
        """A work's ids: AV:233-250 (funded-by, 9020), ExternalIDValidator.java:82-110 (9023)."""
        if not items:
            self.add(
                "external_ids",
                "ORCID requires at least one external identifier (the thesis handle or DOI) "
                "with relationship 'self'.",
            )
            return
        if not any(getattr(x, "relationship", None) == "self" for x in items):
            self.add("external_ids", "ORCID requires at least one identifier with relationship 'self'.")
        for index, item in enumerate(items):
            self.external_id(f"external_ids[{index}]", item, work=True)

    def external_id(self, prefix: str, item: ExternalId, *, work: bool) -> None:
        """An affiliation's ids get the XSD's checks only: ORCID's validateAffiliation (AV:447-480)
        never calls ExternalIDValidator, so any type and no relationship are accepted."""
        kind, value, relationship = item.type, item.value, item.relationship
        if not isinstance(kind, str) or not kind.strip():
            self.add(f"{prefix}.type", "ORCID requires the identifier type (doi, handle, uri, …).")
        elif work:
            self.choice(f"{prefix}.type", kind, EXTERNAL_ID_TYPES, "an identifier type")
        self.text(f"{prefix}.value", value, limit=MAX_URL, required=True, label="the identifier value")
        if relationship is None or relationship == "":
            if work:
                self.add(
                    f"{prefix}.relationship",
                    "ORCID requires a relationship: self, part-of, version-of or funded-by.",
                )
        else:
            self.choice(f"{prefix}.relationship", relationship, RELATIONSHIPS, "a relationship")
            # ExternalIdentifierFundedByHelper.java:11-19 compares the type without case.
            if work and relationship == "funded-by" and str(kind).lower() not in FUNDED_BY_TYPES:
                self.add(
                    f"{prefix}.relationship",
                    f"ORCID accepts 'funded-by' only for {', '.join(sorted(FUNDED_BY_TYPES))} ids, "
                    f"not {kind!r}.",
                )
        if item.url is not None:
            self.url(f"{prefix}.url", item.url)
        if work and kind == "handle" and isinstance(value, str) and value.strip():
            self.bare_handle(f"{prefix}.value", value)

    def bare_handle(self, name: str, value: str) -> None:
        """ORCID has no handle normalizer (only lower-casing, normalizers/ in ORCID-Source), so a
        prefixed handle escapes its duplicate check; a repository's thesis handle is its key."""
        try:
            bare = normalize_handle(value)
        except ValueError as exc:
            self.add(name, f"{exc}{OWN_RULE}")
            return
        if bare != value:
            self.add(
                name,
                f"send the bare handle {bare!r}, not {value!r} (normalize_handle() does this); put "
                f"the resolver link in url{OWN_RULE}.",
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
            self.add(prefix, f"a contributor needs a credit_name or an ORCID iD{OWN_RULE}.")
        self.text(f"{prefix}.credit_name", person.credit_name, limit=150)
        if person.orcid is not None:
            self.contributor_orcid(f"{prefix}.orcid", person.orcid)
        self.choice(f"{prefix}.sequence", person.sequence, CONTRIBUTOR_SEQUENCES, "a contributor sequence")
        role = person.role
        if role is not None and not _role_known(role):
            hint = ""
            if isinstance(role, str) and role.startswith(CREDIT_ROLE_BASE.rstrip("/")):
                hint = " CRediT roles are full URIs ending in a slash, e.g. " + CREDIT_ROLE_BASE + "supervision/."
            self.add(f"{prefix}.role", f"{role!r} is not a contributor role ORCID accepts.{hint}")


    def contributor_orcid(self, name: str, orcid: object) -> None:
        """ORCID checks the shape only (AV:259-271, OrcidStringUtils.isValidOrcid, 9020); the
        check digit is this library's rule: a mistyped supervisor iD names someone else."""
        if not isinstance(orcid, str) or not _ORCID_PATH.fullmatch(orcid):
            try:
                canonical = parse_orcid_id(orcid)  # type: ignore[arg-type]
            except ValueError as exc:
                self.add(name, str(exc))
            else:
                self.add(name, f"write the bare iD {canonical!r}.")
            return
        try:
            parse_orcid_id(orcid)
        except ValueError as exc:
            self.add(name, f"{exc}{OWN_RULE}")


def _role_known(role: object) -> bool:
    """ContributorRoleConverterImpl.java:33-52, :135-151: a legacy role's value or enum name,
    compared exactly (``author``, ``AUTHOR``; not ``Author``), or a CRediT URI compared without
    case (CreditRole.java:38-45)."""
    if not isinstance(role, str):
        return False
    if role in LEGACY_CONTRIBUTOR_ROLES or role.lower() in CREDIT_ROLES:
        return True
    return role == role.upper() and role.lower().replace("_", "-") in LEGACY_CONTRIBUTOR_ROLES and "-" not in role


def work_problems(work: WorkFields) -> Problems:
    """Everything in ``work`` that ORCID's API would refuse on POST or PUT."""
    check = _Checker()
    check.text("title", work.title, limit=1000, required=True, label="a title")
    check.text("subtitle", work.subtitle, limit=1000, blank_ok=True)
    check.text("translated_title", work.translated_title, limit=1000)
    if work.translated_title is not None and work.translated_title_language is None:
        check.add("translated_title_language", "a translated title needs its language code.")
    if work.translated_title_language is not None:
        if work.translated_title is None:
            check.add(
                "translated_title",
                f"a translated title language was given without the title, which would be lost{OWN_RULE}.",
            )
        check.choice("translated_title_language", work.translated_title_language, LANGUAGE_CODES, "a language code")
    check.text("journal_title", work.journal_title, limit=1000)
    check.text("short_description", work.short_description, limit=5000, blank_ok=True)
    if (work.citation_type is None) != (work.citation_value is None):
        missing = "citation_value" if work.citation_value is None else "citation_type"
        check.add(missing, f"give both citation_type and citation_value; one alone would be lost{OWN_RULE}.")
    check.choice("citation_type", work.citation_type, CITATION_TYPES, "a citation type")
    if work.citation_value is not None:
        check.text("citation_value", work.citation_value, limit=1_000_000, required=True, label="the citation")
    if not isinstance(work.type, str) or not work.type:
        check.add("type", "ORCID requires a work type; a thesis is 'dissertation-thesis'.")
    elif work.type not in WORK_TYPES and work.type not in WORK_TYPE_ALIASES:
        hint = " (a thesis is 'dissertation-thesis')" if work.type in ("dissertation", "thesis") else ""
        check.add("type", f"{work.type!r} is not a work type ORCID accepts{hint}.")
    check.date("publication_date", work.publication_date)
    check.external_ids(work.external_ids)
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
        # Every section needs one: AV:367-371 (education, employment), :399-408 (the others), 9046.
        check.add("organization", f"ORCID requires the organization for {item.section}.")
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
    # An end date alone is fine (a degree known by its award year): 9050 is for fundings and
    # research resources only (AV:349-351, :594-596); affiliations only compare (AV:468-478).
    if item.start_date is not None and item.end_date is not None:
        if _padded(item.start_date) > _padded(item.end_date):
            check.add(
                "end_date",
                f"ends ({item.end_date}) before it starts ({item.start_date}); ORCID compares the "
                f"dates as written, so a start of 2020-05 is after an end of 2020.",
            )
    check.url("url", item.url)
    for index, ext in enumerate(item.external_ids):
        check.external_id(f"external_ids[{index}]", ext, work=False)
    check.put_code(item.put_code)
    check.visibility(item.visibility)
    return check.found


def _padded(date: FuzzyDate) -> str:
    """FuzzyDateUtils.compareTo (ORCID-Source orcid-core/src/main/java/org/orcid/core/utils/v3/
    FuzzyDateUtils.java:36-51): year, month and day padded with zeros and compared as text, so a
    missing month counts as 00 and 2020-05 comes after 2020."""
    return f"{date.year:04d}{date.month or 0:02d}{date.day or 0:02d}"

"""ORCID's server-side rules for works and affiliations (API-FACTS §5-§7), the emulator's copy.

Every check raises :class:`ApiError` with the HTTP status and ORCID error code the registry
uses. The XSD is permissive; these are the rules ORCID enforces beyond it.
"""

from __future__ import annotations

import calendar
import re
from typing import Any

MORE_INFO = "https://members.orcid.org/api/resources/troubleshooting"


class ApiError(Exception):
    """An ORCID error response: status, error code and messages (error-3.0)."""

    def __init__(self, status: int, code: int, developer: str, user: str | None = None):
        super().__init__(developer)
        self.status = status
        self.code = code
        self.developer = developer
        self.user = user or developer


# -- vocabularies --------------------------------------------------------------------------------
WORK_TYPES = frozenset("""
annotation artistic-performance blog-post book-chapter book-review book cartographic-material
clinical-study conference-abstract conference-output conference-paper conference-poster
conference-presentation conference-proceedings data-management-plan data-set design
dictionary-entry disclosure dissertation-thesis edited-book encyclopedia-entry image invention
journal-article journal-issue learning-object lecture-speech license magazine-article manual
moving-image musical-composition newsletter-article newspaper-article online-resource other
patent physical-object preprint public-speech registered-copyright report research-technique
research-tool review software sound spin-off-company standards-and-policy
supervised-student-publication technical-standard test trademark transcription translation
website working-paper undefined
""".split())
#: Aliases the server maps on input (WorkType.fromValue).
WORK_TYPE_ALIASES = {
    "article-journal": "journal-article",
    "chapter": "book-chapter",
    "dataset": "data-set",
    "standard": "technical-standard",
}
CITATION_TYPES = frozenset("""
bibtex formatted-apa formatted-chicago formatted-harvard formatted-ieee formatted-mla
formatted-vancouver formatted-unspecified ris
""".split())
ID_TYPES = frozenset("""
agr arxiv asin asin-tld bibcode cba cit ctx doi eid ethos empiar emdb handle hir isbn ismn issn
jfm jstor lccn mr oclc ol osti other-id pat pmc pmid rfc source-work-id ssrn uri urn wosuid zbl
pdb ppr kuid lensid cienciaiul rrid authenticusid ark dnb hal grant_number proposal-id cstr
k10plus cgn raid
""".split())
RELATIONSHIPS = frozenset({"self", "part-of", "version-of", "funded-by"})
FUNDED_BY_TYPES = frozenset({"grant_number", "proposal-id", "uri", "doi"})
LEGACY_ROLES = frozenset("""
author assignee editor chair-or-translator co-investigator co-inventor graduate-student
other-inventor principal-investigator postdoctoral-researcher support-staff
""".split())
CREDIT_ROLES = frozenset(
    f"http://credit.niso.org/contributor-roles/{name}/"
    for name in """
conceptualization data-curation formal-analysis funding-acquisition investigation methodology
project-administration resources software supervision validation visualization
writing-original-draft writing-review-editing
""".split()
)
SEQUENCES = frozenset({"first", "additional"})
DISAMBIGUATION_SOURCES = frozenset({"RINGGOLD", "GRID", "FUNDREF", "LEI", "ROR"})
VISIBILITIES = frozenset({"public", "limited", "registered-only", "private"})

LANGUAGES = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de
dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia
id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo
lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl
ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti
tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu zh_CN zh_TW
""".split())
COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
""".split())


def _bad(code: int, developer: str, user: str | None = None, status: int = 400) -> ApiError:
    return ApiError(status, code, f"{status} Bad Request: {developer}", user or developer)


# -- normalization (grouping and duplicates) -----------------------------------------------------
_DOI = re.compile(r"(10\.\d+/\S+)", re.IGNORECASE)


def normalize_id(id_type: str, value: str) -> str | None:
    """ORCID's ``external-id-normalized``; None when the value cannot be normalized."""
    value = (value or "").strip()
    if id_type == "doi":
        match = _DOI.search(value.replace("&amp;", "&"))
        return match.group(1).lower() if match else None
    if id_type == "uri":
        return value if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value) else f"http://{value}"
    return value.lower()


def id_key(ext: dict[str, Any]) -> tuple[str, str]:
    normalized = normalize_id(ext["type"], ext["value"])
    return ext["type"], normalized if normalized is not None else ext["value"].strip().lower()


def self_keys(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {id_key(e) for e in data.get("external_ids", []) if e.get("relationship") == "self"}


# -- shared checks -------------------------------------------------------------------------------
def check_date(date: dict[str, Any] | None, label: str) -> tuple[int, int, int] | None:
    """Validate a fuzzy date (4-digit year, 2-digit month/day); return a sortable tuple."""
    if not date:
        return None
    year, month, day = (date.get(k) for k in ("year", "month", "day"))
    if not year and (month or day):
        raise _bad(9049, f"Invalid {label}: a month or day needs a year.")
    if day and not month:
        raise _bad(9049, f"Invalid {label}: a day needs a month.")
    if not year:
        return None
    if not re.fullmatch(r"\d{4}", str(year)) or not 1900 <= int(year) <= 2100:
        raise _bad(9049, f"Invalid {label}: year {year!s} must have 4 digits (1900-2100).")
    m = d = 0
    if month:
        if not re.fullmatch(r"\d{2}", str(month)) or not 1 <= int(month) <= 12:
            raise _bad(9049, f"Invalid {label}: month {month!s} must have 2 digits (01-12).")
        m = int(month)
    if day:
        last = calendar.monthrange(int(year), m)[1]
        if not re.fullmatch(r"\d{2}", str(day)) or not 1 <= int(day) <= last:
            raise _bad(9049, f"Invalid {label}: day {day!s} is not a day of that month.")
        d = int(day)
    return int(year), m, d


def check_external_ids(ids: list[dict[str, Any]], require_self: bool) -> None:
    if require_self and not ids:
        raise _bad(9023, "An external identifier is required.",
                   "Please add an external identifier (a DOI, handle, URI...).")
    for ext in ids:
        id_type = ext.get("type") or ""
        if id_type not in ID_TYPES:
            raise _bad(9023, f"External ID type {id_type or '(empty)'} is not valid. Valid "
                       "types are listed at /v3.0/identifiers.")
        if not (ext.get("value") or "").strip():
            raise _bad(9023, "External ID value must not be empty.")
        rel = ext.get("relationship")
        if rel not in RELATIONSHIPS:
            raise _bad(9023, "Invalid external-id relationship: "
                       f"{rel or '(missing)'}; use self, part-of, version-of or funded-by.")
        if rel == "funded-by" and id_type not in FUNDED_BY_TYPES:
            raise _bad(9023, f"External ID {id_type} not supported for relationship funded_by")
    if require_self and not any(e.get("relationship") == "self" for e in ids):
        raise _bad(9023, "At least one identifier with 'self' relationship is required.")


def check_country(country: str | None, label: str = "country") -> None:
    if country is not None and country not in COUNTRIES:
        raise _bad(9037, f"Invalid {label} {country}: use an ISO 3166-1 alpha-2 code.")


def _length(value: str | None, limit: int, label: str) -> None:
    if value is not None and len(value) > limit:
        raise _bad(9020, f"Full validation error: {label} is longer than {limit} characters.")


# -- works ---------------------------------------------------------------------------------------
def validate_work(data: dict[str, Any]) -> None:
    if data.get("type") in WORK_TYPE_ALIASES:
        data["type"] = WORK_TYPE_ALIASES[data["type"]]
    title = (data.get("title") or "").strip()
    if not title:
        raise _bad(9022, "The activity title is missing.", "Please add a title.")
    _length(data.get("title"), 1000, "title")
    _length(data.get("subtitle"), 1000, "subtitle")
    if data.get("translated_title") is not None:
        _length(data["translated_title"], 1000, "translated-title")
        lang = data.get("translated_title_language")
        if not lang or lang not in LANGUAGES:
            raise _bad(9037, f"Invalid translated-title language code {lang or '(missing)'}.")
    if data.get("journal_title") is not None:
        if not data["journal_title"].strip():
            raise _bad(9020, "Full validation error: journal-title must not be empty.")
        _length(data["journal_title"], 1000, "journal-title")
    _length(data.get("short_description"), 5000, "short-description")
    if data.get("citation_type") is not None or data.get("citation_value") is not None:
        if data.get("citation_type") not in CITATION_TYPES:
            raise _bad(9037, f"Invalid citation type {data.get('citation_type')}; valid values "
                       f"are: {', '.join(sorted(CITATION_TYPES))}.")
        if not (data.get("citation_value") or "").strip():
            raise _bad(9037, "The citation value must not be empty.")
    wtype = data.get("type")
    if wtype not in WORK_TYPES:
        raise _bad(9037, f"Invalid work type {wtype or '(missing)'}, valid values are: "
                   f"{', '.join(sorted(WORK_TYPES))}.", "Please specify a work type.")
    check_date(data.get("publication_date"), "publication date")
    check_external_ids(data.get("external_ids", []), require_self=True)
    for contributor in data.get("contributors", []):
        role = contributor.get("role")
        if role is not None and role not in LEGACY_ROLES and role not in CREDIT_ROLES:
            raise _bad(9058, f"Invalid contributor role {role}.",
                       "404 Bad Request: Invalid contributor role.")
        seq = contributor.get("sequence")
        if seq is not None and seq not in SEQUENCES:
            raise _bad(9037, f"Invalid contributor sequence {seq}; use first or additional.")
        _length(contributor.get("credit_name"), 150, "credit-name")
        if contributor.get("orcid") and not re.fullmatch(r"(\d{4}-){3}\d{3}[\dX]",
                                                         contributor["orcid"]):
            raise _bad(9020, f"Full validation error: invalid contributor iD "
                       f"{contributor['orcid']}.")
    lang = data.get("language_code")
    if lang is not None and lang not in LANGUAGES:
        raise _bad(9037, f"Invalid language code {lang}.")
    check_country(data.get("country"))


# -- affiliations --------------------------------------------------------------------------------
def validate_affiliation(
    section: str, data: dict[str, Any], orgs: dict[tuple[str, str], Any]
) -> None:
    org = data.get("organization")
    strict = section in ("education", "employment")
    for field in ("department_name", "role_title"):
        _length(data.get(field), 4000, field.replace("_", "-"))
    if strict:
        if not org or not (org.get("name") or "").strip():
            raise _bad(9046, "The organization is missing.", "Please add an organization.")
        if not org.get("disambiguated_id"):
            raise _bad(9045, "The disambiguated organization is missing.",
                       "Please add a disambiguated organization identifier (e.g. ROR).")
        if not org.get("city") or not org.get("country"):
            raise _bad(9060, "City and country are required for education and employment.")
    else:
        if not (org and org.get("disambiguated_id")) and not data.get("external_ids"):
            raise _bad(9062, "A disambiguated organization or an external identifier is "
                       "required.")
        if org and (org.get("city") or org.get("region")) and not org.get("country"):
            raise _bad(9061, "A country is required when a city or region is given.")
    if org:
        if org.get("name") is not None and not org["name"].strip():
            raise _bad(9046, "The organization name is missing.")
        check_country(org.get("country"))
        if org.get("disambiguated_id"):
            source = org.get("disambiguation_source") or ""
            key = (source, org["disambiguated_id"].strip())
            if source not in DISAMBIGUATION_SOURCES or key not in orgs:
                raise _bad(9045, f"Invalid disambiguated organization {key[1]} ({source}): "
                           "not found in the org registry.")
    start = check_date(data.get("start_date"), "start date")
    end = check_date(data.get("end_date"), "end date")
    if end is not None and start is None:
        raise _bad(9050, "An end date needs a start date.")
    if start is not None and end is not None and _cmp(start, end) > 0:
        raise _bad(9055, "The end date is before the start date.")
    check_external_ids(data.get("external_ids", []), require_self=False)


def _cmp(a: tuple[int, int, int], b: tuple[int, int, int]) -> int:
    """Compare fuzzy dates on the parts both have."""
    for x, y in zip(a, b, strict=True):
        if not x or not y:
            return 0
        if x != y:
            return -1 if x < y else 1
    return 0

"""ORCID's server-side rules for works and affiliations, the emulator's copy.

Every check raises :class:`ApiError` with the HTTP status and ORCID error code the registry
uses. These run after the reader (schema.py); ``ActivityValidator.java`` below means ORCID-Source:
orcid-core/src/main/java/org/orcid/core/manager/v3/validator/ActivityValidator.java and the codes
come from orcid-core/src/main/java/org/orcid/core/exception/OrcidCoreExceptionMapper.java:55-123.
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
#: Aliases the server maps on input: orcid-model
#: src/main/java/org/orcid/jaxb/model/common/WorkType.java:83-93 ("standard" is
#: STANDARDS_AND_POLICY, :91).
WORK_TYPE_ALIASES = {
    "article-journal": "journal-article",
    "chapter": "book-chapter",
    "dataset": "data-set",
    "standard": "standards-and-policy",
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
#: LegacyWorkContributorRole values; ORCID also accepts the enum NAMES (AUTHOR, CO_INVENTOR...),
#: both compared exactly (ContributorRoleConverterImpl.java:135-151).
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

#: orcid-model src/main/java/org/orcid/jaxb/model/common/LanguageCode.java:4 (valueOf: exact,
#: case-sensitive). Note the legacy codes iw, in, ji, mo, bh and the absence of he, id, yi, zh.
LANGUAGES = frozenset("""
ab aa af ak sq am ar an hy as av ae ay az bm ba eu be bn bh bi bs br bg my ca ch ce zh_CN zh_TW cu
cv kw co cr hr cs da dv nl dz en eo et ee fo fj fi fr fy ff gl lg ka de el kl gn gu ht ha iw hz hi
ho hu is io ig in ia ie iu ik ga it ja jv kn kr ks kk km ki rw ky kv kg ko ku kj lo la lv li ln lt
lu lb mk mg ms ml mt gv mi mr mh mo mn na nv ng ne nd se no nb nn ny oc oj or om os pi pa fa pl pt
ps qu rm ro rn ru sm sg sa sc gd sr sn ii sd si sk sl so nr st es su sw ss sv tl ty tg ta tt te th
bo ti to ts tn tr tk tw ug uk ur uz ve vi vo wa cy wo xh ji yo za zu
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


def check_external_ids(ids: list[dict[str, Any]]) -> None:
    """A work's ids: ActivityValidator.java:233-253, then ExternalIDValidator.java:82-110."""
    if not ids:
        raise _bad(9023, "An external identifier is required.",
                   "Please add an external identifier (a DOI, handle, URI...).")
    for ext in ids:
        # funded-by comes first and is an OrcidValidationException (9020), compared without
        # case (ActivityValidator.java:247-250, ExternalIdentifierFundedByHelper.java:11-19).
        if ext.get("relationship") == "funded-by" and \
                (ext.get("type") or "").lower() not in FUNDED_BY_TYPES:
            raise _bad(9020, "Invalid incoming message. Full validation error: External ID "
                       f"{ext.get('type')} not supported for relationship funded_by",
                       "Invalid incoming message.")
    errors = []
    for ext in ids:
        if ext.get("type") not in ID_TYPES:
            errors.append(str(ext.get("type")))
        if not (ext.get("value") or "").strip():
            errors.append("value")
        if ext.get("relationship") is None:
            errors.append("relationship")
    if not any(e.get("relationship") == "self" for e in ids):
        errors.append("At least one identifier with 'self' relationship is required")
    if errors:
        raise _bad(9023, "Invalid external-id " + " ".join(errors))


def check_country(country: str | None, label: str = "country") -> None:
    """Reached only when a bulk body's bad country was dropped to "" (ActivityValidator:102)."""
    if country is not None and country not in COUNTRIES:
        raise _bad(9037, f"Invalid {label}, valid values are: {', '.join(sorted(COUNTRIES))}.")


def role_known(role: str) -> bool:
    """WorkContributorRoleConverter.toDBRole (ContributorRoleConverterImpl.java:33-52): a legacy
    value or enum name exactly, or a CRediT URI ignoring case (CreditRole.java:38-45)."""
    return (role in LEGACY_ROLES or role.lower().replace("_", "-") in LEGACY_ROLES
            and role == role.upper()) or role.lower() in CREDIT_ROLES


# -- works ---------------------------------------------------------------------------------------
def validate_work(data: dict[str, Any]) -> None:
    """ActivityValidator.validateWork (ActivityValidator.java:96-298), after the reader."""
    if data.get("type") in WORK_TYPE_ALIASES:
        data["type"] = WORK_TYPE_ALIASES[data["type"]]
    if not (data.get("title") or "").strip():
        raise _bad(9022, "The activity title is missing.", "Please add a title.")
    check_country(data.get("country"))
    if data.get("translated_title") and not data.get("translated_title_language"):
        raise _bad(9037, "Invalid translated title -> language code, valid values are: "
                   f"{', '.join(sorted(LANGUAGES))}.")
    if data.get("type") not in WORK_TYPES:
        raise _bad(9037, f"Invalid work type, valid values are: {', '.join(sorted(WORK_TYPES))}.",
                   "Please specify a work type.")
    check_date(data.get("publication_date"), "publication date")
    if data.get("citation_type") is not None or data.get("citation_value") is not None:
        if data.get("citation_type") is None:
            raise _bad(9037, "Invalid citation type, valid values are: "
                       f"{', '.join(sorted(CITATION_TYPES))}.")
        if not (data.get("citation_value") or "").strip():  # ActivityValidator.java:228-229
            raise _bad(9020, "Invalid incoming message. Full validation error: Please specify "
                       "a citation or remove the parent tag", "Invalid incoming message.")
    check_external_ids(data.get("external_ids", []))
    _contributors(data.get("contributors", []))


def _contributors(contributors: list[dict[str, Any]]) -> None:
    for contributor in contributors:
        if contributor.get("orcid") and not re.fullmatch(r"(\d{4}-){3}\d{3}[\dX]",
                                                         contributor["orcid"]):
            raise _bad(9020, f"Full validation error: invalid contributor iD "
                       f"{contributor['orcid']}.")
        if contributor.get("credit_name") is not None and not contributor["credit_name"].strip():
            raise _bad(9020, "Full validation error: Please specify a contributor credit name "
                       "or remove the empty tag")
        role = contributor.get("role")
        if role is not None and not role_known(role):  # WorkContributorsConverter.java:40-57
            raise _bad(9058, f"Invalid contributor role {role}.",
                       "404 Bad Request: Invalid contributor role.")


# -- affiliations --------------------------------------------------------------------------------
def validate_affiliation(
    section: str, data: dict[str, Any], orgs: dict[tuple[str, str], Any]
) -> None:
    """ActivityValidator.validateAffiliation (ActivityValidator.java:447-480). External ids are
    not checked at all: neither their type nor their relationship."""
    org = data.get("organization")
    if section in ("education", "employment"):
        # validateDisambiguatedOrg then validateOrgAddress (ActivityValidator.java:367-393)
        if not org:
            raise _bad(9046, "400 Bad request: organization must be present and valid",
                       "No valid organization is included in the data.")
        if not org.get("disambiguated_id"):
            raise _bad(9045, "The disambiguated organization is missing.",
                       "Please add a disambiguated organization identifier (e.g. ROR).")
        if not org.get("city") or not org.get("country"):
            raise _bad(9060, "City and country are required for education and employment.")
    else:
        _professional_org(org, data)
    if org:
        check_country(org.get("country"))
        if org.get("disambiguated_id"):
            _known_org(org, orgs)
    start = check_date(data.get("start_date"), "start date")
    end = check_date(data.get("end_date"), "end date")
    # No 9050 here: MissingStartDateException is for fundings and research resources only
    # (ActivityValidator.java:349-351, :594-596); affiliations only compare (:468-478).
    if start is not None and end is not None and \
            padded(data["start_date"]) > padded(data["end_date"]):
        raise _bad(9055, "400 Bad Request: End date must come after start date.",
                   "End date must come after start date.")


def _professional_org(org: dict[str, Any] | None, data: dict[str, Any]) -> None:
    """ActivityValidator.java:399-428 (qualification, service, membership, ...)."""
    if not org or (not org.get("disambiguated_id") and not (org.get("name") or "").strip()):
        raise _bad(9046, "400 Bad request: organization must be present and valid",
                   "No valid organization is included in the data.")
    if not org.get("disambiguated_id") and not data.get("external_ids"):
        raise _bad(9062, "A disambiguated organization or an external identifier is required.")
    if (org.get("city") or org.get("region")) and not org.get("country"):
        raise _bad(9061, "A country is required when a city or region is given.")


def _known_org(org: dict[str, Any], orgs: dict[tuple[str, str], Any]) -> None:
    source = org.get("disambiguation_source") or ""
    key = (source, org["disambiguated_id"].strip())
    if source not in DISAMBIGUATION_SOURCES or key not in orgs:
        raise _bad(9045, f"Invalid disambiguated organization {key[1]} ({source}): "
                   "not found in the org registry.")


def padded(date: dict[str, Any]) -> str:
    """FuzzyDateUtils.compareTo (orcid-core/.../utils/v3/FuzzyDateUtils.java:36-51): year (or
    0000), month and day left-padded to 2 (or 00), compared as strings, so 2020-05 > 2020."""
    return ((date.get("year") or "0000") + (date.get("month") or "00").rjust(2, "0")
            + (date.get("day") or "00").rjust(2, "0"))

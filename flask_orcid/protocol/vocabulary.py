"""ORCID's controlled vocabularies for v3.0 writes (API-FACTS §5, §6).

The XSDs leave most of these as plain strings; ORCID's server checks them and answers 400
(9037, 9023, 9058, …). Checking them here turns a rejected delivery into a clear message
before anything is sent.
"""

from __future__ import annotations

#: ORCID adds or reads at most 100 works per bulk call (API-FACTS §4).
MAX_BULK = 100

#: ``work:type`` values (OM WorkType.java). Thesis = ``dissertation-thesis``.
WORK_TYPES: frozenset[str] = frozenset(
    """
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
    """.split()
)

#: Aliases ORCID's WorkType.fromValue also accepts (API-FACTS §5).
WORK_TYPE_ALIASES: frozenset[str] = frozenset({"article-journal", "chapter", "dataset", "standard"})

#: ``external-id-type`` API names (API-FACTS §5; the live list at /v3.0/identifiers is
#: authoritative, this is the list known when this was written). Note ``grant_number``.
EXTERNAL_ID_TYPES: frozenset[str] = frozenset(
    """
    agr arxiv asin asin-tld bibcode cba cit ctx doi eid ethos empiar emdb handle hir isbn ismn
    issn jfm jstor lccn mr oclc ol osti other-id pat pmc pmid rfc source-work-id ssrn uri urn
    wosuid zbl pdb ppr kuid lensid cienciaiul rrid authenticusid ark dnb hal grant_number
    proposal-id cstr k10plus cgn raid
    """.split()
)

RELATIONSHIPS: frozenset[str] = frozenset({"self", "part-of", "version-of", "funded-by"})

#: The only id types ORCID accepts with ``funded-by`` (ExternalIdentifierFundedByHelper).
FUNDED_BY_TYPES: frozenset[str] = frozenset({"grant_number", "proposal-id", "uri", "doi"})

CITATION_TYPES: frozenset[str] = frozenset(
    """
    bibtex formatted-apa formatted-chicago formatted-harvard formatted-ieee formatted-mla
    formatted-vancouver formatted-unspecified ris
    """.split()
)

CONTRIBUTOR_SEQUENCES: frozenset[str] = frozenset({"first", "additional"})

#: Original contributor roles; ORCID says they will be removed in a future API version.
LEGACY_CONTRIBUTOR_ROLES: frozenset[str] = frozenset(
    """
    author assignee editor chair-or-translator co-investigator co-inventor graduate-student
    other-inventor principal-investigator postdoctoral-researcher support-staff
    """.split()
)

CREDIT_ROLE_BASE = "http://credit.niso.org/contributor-roles/"

#: CRediT roles as ORCID spells them: full URIs with the trailing slash.
CREDIT_ROLES: frozenset[str] = frozenset(
    f"{CREDIT_ROLE_BASE}{name}/"
    for name in """
    conceptualization data-curation formal-analysis funding-acquisition investigation methodology
    project-administration resources software supervision validation visualization
    writing-original-draft writing-review-editing
    """.split()
)

CONTRIBUTOR_ROLES: frozenset[str] = LEGACY_CONTRIBUTOR_ROLES | CREDIT_ROLES

#: ``language-code`` values (common-3.0.xsd documentation; OM LanguageCode.java).
LANGUAGE_CODES: frozenset[str] = frozenset(
    """
    ab aa af ak sq am ar an hy as av ae ay az bm ba eu be bn bh bi bs br bg my ca ch ce zh_CN zh_TW
    cu cv kw co cr hr cs da dv nl dz en eo et ee fo fj fi fr fy ff gl lg ka de el kl gn gu ht ha iw
    hz hi ho hu is io ig in ia ie iu ik ga it ja jv kn kr ks kk km ki rw ky kv kg ko ku kj lo la lv
    li ln lt lu lb mk mg ms ml mt gv mi mr mh mo mn na nv ng ne nd se no nb nn ny oc oj or om os pi
    pa fa pl pt ps qu rm ro rn ru sm sg sa sc gd sr sn ii sd si sk sl so nr st es su sw ss sv tl ty
    tg ta tt te th bo ti to ts tn tr tk tw ug uk ur uz ve vi vo wa cy wo xh ji yo za zu
    """.split()
)

#: ISO 3166-1 alpha-2 codes, plus XK (Kosovo), which ORCID's country list also carries.
COUNTRY_CODES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA
    ZM ZW
    """.split()
)

#: ``disambiguation-source`` values (OrgDisambiguatedSourceType.java). Prefer ROR.
DISAMBIGUATION_SOURCES: frozenset[str] = frozenset({"RINGGOLD", "GRID", "FUNDREF", "LEI", "ROR"})

VISIBILITIES: frozenset[str] = frozenset({"private", "limited", "public", "registered-only"})

#: Affiliation sections, singular as in the API paths (``POST /education``).
AFFILIATION_SECTIONS: tuple[str, ...] = (
    "education",
    "employment",
    "qualification",
    "distinction",
    "invited-position",
    "membership",
    "service",
)

#: Sections where ORCID insists on a disambiguated organization with city and country.
STRICT_AFFILIATION_SECTIONS: frozenset[str] = frozenset({"education", "employment"})

#: Plural forms used by the summary endpoints (``GET /educations``).
SECTION_PLURALS: dict[str, str] = {section: f"{section}s" for section in AFFILIATION_SECTIONS}

__all__ = [
    "AFFILIATION_SECTIONS",
    "CITATION_TYPES",
    "CONTRIBUTOR_ROLES",
    "CONTRIBUTOR_SEQUENCES",
    "COUNTRY_CODES",
    "CREDIT_ROLES",
    "CREDIT_ROLE_BASE",
    "DISAMBIGUATION_SOURCES",
    "EXTERNAL_ID_TYPES",
    "FUNDED_BY_TYPES",
    "LANGUAGE_CODES",
    "LEGACY_CONTRIBUTOR_ROLES",
    "RELATIONSHIPS",
    "SECTION_PLURALS",
    "STRICT_AFFILIATION_SECTIONS",
    "VISIBILITIES",
    "WORK_TYPES",
    "WORK_TYPE_ALIASES",
]

"""What an outbox item will look like on the researcher's ORCID record, for them to decide.

Built from the row's desired payload through the protocol model (the same ``Work`` or
``Affiliation`` the worker sends), so the preview shows exactly what will be written: title,
type, identifiers with their links, contributors with their roles, organization, dates, URL.
Everything here is plain text for Jinja to escape; a link is only ever an ``http(s)`` URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import get_locale

from .display import orcid_uri_for
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .protocol.model import Affiliation, Contributor, ExternalId, Work
from .protocol.vocabulary import CREDIT_ROLE_BASE

__all__ = ["ContributorLine", "Identifier", "Preview", "preview_of"]

#: Work types as ORCID's pages name them (the codes are ORCID's WorkType values); others show
#: their code with spaces.
WORK_TYPES = {
    "dissertation-thesis": _l("Dissertation or Thesis"),
    "journal-article": _l("Journal article"),
    "book": _l("Book"),
    "book-chapter": _l("Book chapter"),
    "conference-paper": _l("Conference paper"),
    "data-set": _l("Data set"),
    "preprint": _l("Preprint"),
    "report": _l("Report"),
    "software": _l("Software"),
    "supervised-student-publication": _l("Supervised student publication"),
    "other": _l("Other"),
}

#: what each kind of item is called on the pages (the outbox's and the review's)
KIND_LABELS = {
    "work": _l("Work"),
    "education": _l("Education"),
    "employment": _l("Employment"),
    "qualification": _l("Qualification"),
    "distinction": _l("Distinction"),
    "invited-position": _l("Invited position"),
    "membership": _l("Membership"),
    "service": _l("Service"),
}

#: Contributor roles: the CRediT taxonomy (by the last part of its URI) and ORCID's legacy
#: roles (API-FACTS §5).
ROLES = {
    "conceptualization": _l("Conceptualization"),
    "data-curation": _l("Data curation"),
    "formal-analysis": _l("Formal analysis"),
    "funding-acquisition": _l("Funding acquisition"),
    "investigation": _l("Investigation"),
    "methodology": _l("Methodology"),
    "project-administration": _l("Project administration"),
    "resources": _l("Resources"),
    "software": _l("Software"),
    "supervision": _l("Supervision"),
    "validation": _l("Validation"),
    "visualization": _l("Visualization"),
    "writing-original-draft": _l("Writing – original draft"),
    "writing-review-editing": _l("Writing – review & editing"),
    "author": _l("Author"),
    "editor": _l("Editor"),
    "assignee": _l("Assignee"),
    "chair-or-translator": _l("Chair or translator"),
    "co-investigator": _l("Co-investigator"),
    "co-inventor": _l("Co-inventor"),
    "graduate-student": _l("Graduate student"),
    "other-inventor": _l("Other inventor"),
    "principal-investigator": _l("Principal investigator"),
    "postdoctoral-researcher": _l("Postdoctoral researcher"),
    "support-staff": _l("Support staff"),
}

#: Where an identifier without a URL of its own resolves. ORCID's pages build such links for
#: known types when none was sent (ORCID-Source, orcid-persistence/src/main/resources/db/
#: updates/identifier-types/README.md: "Add a link generator to the UI"); handles resolve at
#: hdl.handle.net (API-FACTS §5).
RESOLVERS = {
    "doi": "https://doi.org/",
    "handle": "https://hdl.handle.net/",
    "arxiv": "https://arxiv.org/abs/",
    "pmid": "https://pubmed.ncbi.nlm.nih.gov/",
    "pmc": "https://europepmc.org/articles/",
}


@dataclass
class Identifier:
    type: str
    value: str
    url: str | None
    relationship: str


@dataclass
class ContributorLine:
    name: str
    orcid: str | None
    orcid_url: str | None
    roles: list[str]


@dataclass
class Preview:
    """One item as the record will show it (every value plain text)."""

    kind: str
    section: str
    title: str
    subtitle: str | None = None
    type: str | None = None
    date: str | None = None
    end_date: str | None = None
    organization: str | None = None
    place: str | None = None
    department: str | None = None
    url: str | None = None
    language: str | None = None
    description: str | None = None
    identifiers: list[Identifier] = field(default_factory=list)
    contributors: list[ContributorLine] = field(default_factory=list)


def _http(url: str | None) -> str | None:
    """``url`` only when it is an absolute http(s) URL (never ``javascript:`` and the like)."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def _identifier(x: ExternalId) -> Identifier:
    url = _http(x.url)
    if url is None and x.type in RESOLVERS:
        url = RESOLVERS[x.type] + x.value.strip()
    elif url is None and x.type == "uri":
        url = _http(x.value)
    return Identifier(type=x.type, value=x.value, url=url, relationship=x.relationship)


def _role(role: str | None) -> str | None:
    if not role:
        return None
    name = role[len(CREDIT_ROLE_BASE):].strip("/") if role.startswith(CREDIT_ROLE_BASE) else role
    label = ROLES.get(name)
    return str(label) if label is not None else name.replace("-", " ")


def _contributors(people: list[Contributor]) -> list[ContributorLine]:
    """One line per person (ORCID groups the roles of a person sent several times)."""
    lines: dict[tuple[str, str | None], ContributorLine] = {}
    for c in people:
        name = c.credit_name or ""
        line = lines.get((name, c.orcid))
        if line is None:
            line = lines[(name, c.orcid)] = ContributorLine(
                name=name, orcid=c.orcid, orcid_url=orcid_uri_for(c.orcid) if c.orcid else None,
                roles=[])
        role = _role(c.role)
        if role and role not in line.roles:
            line.roles.append(role)
    return list(lines.values())


def _language(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return str(get_locale().languages.get(code.split("_")[0]) or code)
    except (AttributeError, KeyError, RuntimeError):
        return code


def _country(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return str(get_locale().territories.get(code) or code)
    except (AttributeError, KeyError, RuntimeError):
        return code


def _work(work: Work) -> Preview:
    kind = WORK_TYPES.get(work.type)
    return Preview(
        kind="work", section=_("Works"), title=work.title, subtitle=work.subtitle,
        type=str(kind) if kind is not None else work.type.replace("-", " "),
        date=str(work.publication_date) if work.publication_date else None,
        url=_http(work.url), language=_language(work.language_code),
        description=work.short_description,
        place=_country(work.country),
        identifiers=[_identifier(x) for x in work.external_ids],
        contributors=_contributors(work.contributors),
    )


def _affiliation(item: Affiliation) -> Preview:
    org = item.organization
    place = None
    if org is not None:
        place = ", ".join(p for p in (org.city, org.region, _country(org.country)) if p) or None
    section = KIND_LABELS.get(item.section)
    return Preview(
        kind=item.section, section=str(section) if section is not None else item.section,
        title=item.role_title or (org.name if org else ""), organization=org.name if org else None,
        place=place, department=item.department,
        date=str(item.start_date) if item.start_date else None,
        end_date=str(item.end_date) if item.end_date else None, url=_http(item.url),
        identifiers=[_identifier(x) for x in item.external_ids],
    )


def preview_of(row: Any) -> Preview:
    """The preview of an outbox row's desired item (``row.item()``: its stored payload)."""
    item = row.item()
    return _work(item) if isinstance(item, Work) else _affiliation(item)

"""The member API's record summary (``GET /v3.0/{orcid}/summary``): ORCID's trust markers.

What a record's owner has had confirmed by others: email domains ORCID verified (public ones
only), and for works and affiliations whether a source other than the researcher asserted
them (``validated``). Shape: orcid-model ``summary_3.0/summary-3.0.xsd``; content:
ORCID-Source ``orcid-core/src/main/java/org/orcid/core/common/manager/impl/
SummaryManagerImpl.java``. Any token of the record (or a ``/read-public`` client token) may
read it (``MemberV3ApiServiceDelegatorImpl.java:1578-1584``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from lxml import etree

from ..errors import XMLError
from .xmlsafe import parse_xml

__all__ = ["AffiliationMarker", "EmailDomain", "RecordSummary", "parse_summary"]

_S = "http://www.orcid.org/ns/summary"
_C = "http://www.orcid.org/ns/common"


@dataclass
class EmailDomain:
    value: str
    verified_at: _dt.datetime | None = None


@dataclass
class AffiliationMarker:
    """One of the (at most three) affiliations the summary lists per group."""

    put_code: int | None
    type: str | None
    organization_name: str | None
    role: str | None
    validated: bool


@dataclass
class RecordSummary:
    orcid: str | None = None
    credit_name: str | None = None
    email_domains: list[EmailDomain] = field(default_factory=list)
    email_domain_count: int = 0
    works_validated: int = 0
    works_self_asserted: int = 0
    fundings_validated: int = 0
    fundings_self_asserted: int = 0
    employment_count: int = 0
    employments: list[AffiliationMarker] = field(default_factory=list)
    education_count: int = 0
    educations: list[AffiliationMarker] = field(default_factory=list)
    professional_activity_count: int = 0
    peer_reviews_total: int = 0

    @property
    def verified_domains(self) -> list[str]:
        return [d.value for d in self.email_domains]

    @property
    def validated_affiliations(self) -> int:
        """Validated entries among the listed (top three) employments and educations."""
        return sum(1 for a in self.employments + self.educations if a.validated)


def _int(element: etree._Element | None, name: str) -> int:
    text = None if element is None else element.findtext(f"{{{_S}}}{name}")
    try:
        return max(int((text or "0").strip()), 0)
    except ValueError:
        return 0


def _when(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    try:
        return _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _markers(root: etree._Element, container: str, element: str) -> tuple[int, list[AffiliationMarker]]:
    box = root.find(f"{{{_S}}}{container}")
    if box is None:
        return 0, []
    out = []
    for el in box.findall(f"{{{_S}}}{element}"):
        code = el.findtext(f"{{{_S}}}put-code")
        out.append(AffiliationMarker(
            put_code=int(code) if code and code.strip().isdigit() else None,
            type=el.findtext(f"{{{_S}}}type"),
            organization_name=el.findtext(f"{{{_S}}}organization-name"),
            role=el.findtext(f"{{{_S}}}role"),
            validated=(el.findtext(f"{{{_S}}}validated") or "").strip() == "true",
        ))
    return _int(box, "count"), out


def parse_summary(xml: bytes | str) -> RecordSummary:
    """A ``summary:record-summary`` document; missing parts read as zero or empty."""
    root = parse_xml(xml)
    if root.tag != f"{{{_S}}}record-summary":
        raise XMLError("Expected ORCID's record summary, got another document.")
    ident = root.find(f"{{{_C}}}orcid-identifier")
    summary = RecordSummary(
        orcid=None if ident is None else (ident.findtext(f"{{{_C}}}path") or "").strip() or None,
        credit_name=(root.findtext(f"{{{_S}}}credit-name") or "").strip() or None,
    )
    works = root.find(f"{{{_S}}}works")
    summary.works_validated = _int(works, "validated-count")
    summary.works_self_asserted = _int(works, "self-asserted-count")
    fundings = root.find(f"{{{_S}}}fundings")
    summary.fundings_validated = _int(fundings, "validated-count")
    summary.fundings_self_asserted = _int(fundings, "self-asserted-count")
    summary.peer_reviews_total = _int(root.find(f"{{{_S}}}peer-reviews"), "total")
    summary.employment_count, summary.employments = _markers(root, "employments", "employment")
    summary.education_count, summary.educations = _markers(
        root, "education-qualifications", "education-qualification")
    summary.professional_activity_count, _ = _markers(
        root, "professional-activities", "professional-activity")
    domains = root.find(f"{{{_S}}}email-domains")
    summary.email_domain_count = _int(domains, "count")
    for el in [] if domains is None else domains.findall(f"{{{_S}}}email-domain"):
        value = (el.findtext(f"{{{_S}}}value") or "").strip().lower()
        if value:
            summary.email_domains.append(
                EmailDomain(value, _when(el.findtext(f"{{{_S}}}verification-date"))))
    return summary

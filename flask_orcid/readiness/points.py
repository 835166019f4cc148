"""The points of ORCID's member integration checklist that the check runs, with their sources.

ORCID reviews every member integration before it issues production credentials: a live demo,
a test site, or screenshots / a screencast "including what happens if a user denies access or
disconnects their iD", plus documentation of what reviewers cannot see (API version, what is
stored). The points below are the minimum requirements and best practices those reviews look
for; docs/integration-check.md explains how each is checked and what the evidence pack shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import lazy_gettext as _l

__all__ = ["POINTS", "Point", "SOURCES", "point"]

#: ORCID's pages the points come from (read 2026; API-FACTS §10-§12 keeps the same list).
SOURCES = {
    "minimum": "https://info.orcid.org/documentation/integration-guide/"
               "minimum-requirements-for-member-integrations",
    "mandatory": "https://info.orcid.org/faq/what-are-the-mandatory-requirements-for-a-member-"
                 "integration/",
    "best": "https://info.orcid.org/ufaqs/integration-best-practices/",
    "checklist": "https://members.orcid.org/api/member-api-credentials-check-list",
    "review": "https://info.orcid.org/ufaqs/im-using-a-non-certified-service-provider-system-how-"
              "do-i-get-production-member-api-credentials",
    "display": "https://info.orcid.org/documentation/integration-guide/orcid-id-display-"
               "guidelines",
    "ux": "https://info.orcid.org/documentation/integration-guide/user-experience-display-"
          "guidelines/",
    "store": "https://info.orcid.org/ufaqs/what-should-my-integration-store",
    "etd": "https://info.orcid.org/documentation/workflows/etheses-and-dissertation",
    "client": "https://info.orcid.org/?p=3449",
}


@dataclass(frozen=True)
class Point:
    """One checklist point: a stable id (CLI, JSON, tests), a title and ORCID's sources."""

    id: str
    title: object
    sources: tuple[str, ...]


POINTS: tuple[Point, ...] = (
    Point("benefit-text", _l("The connect page explains ORCID and its benefits, with an "
                             "ORCID-branded connect button"), ("minimum", "mandatory", "ux")),
    Point("redirect-https", _l("The redirect URI is HTTPS"), ("minimum", "mandatory", "client")),
    Point("minimal-scopes", _l("Only the scopes the integration needs are requested"),
          ("minimum", "mandatory", "etd")),
    Point("state-single-use", _l("The OAuth state is checked and used only once"), ("best",)),
    Point("deny-path", _l("Denying access leads to an explanation and a way to try again"),
          ("best", "checklist", "review")),
    Point("tokens-encrypted", _l("The token exchange is stored, tokens encrypted"),
          ("mandatory", "store")),
    Point("token-reuse", _l("An existing permission is reused, not asked for again"), ("best",)),
    Point("prefill", _l("The form is prefilled from the ORCID record"), ("checklist", "etd")),
    Point("put-code-updates", _l("Items are updated with PUT to their stored put-code"),
          ("mandatory", "best", "store")),
    Point("api-version", _l("The latest API version (v3.0) is used"), ("minimum", "review")),
    Point("id-display", _l("iDs are displayed per ORCID's guidelines: icon and full https URI "
                           "for authenticated iDs, no icon for unauthenticated ones"),
          ("minimum", "display", "ux")),
    Point("exports", _l("Metadata exports carry authenticated iDs and flag unauthenticated "
                        "ones"), ("mandatory", "display")),
    Point("support-contact", _l("Error pages give a support contact"), ("best", "store")),
    Point("disconnect-revokes", _l("Disconnecting revokes the token at ORCID and deletes the "
                                   "local data"), ("best", "checklist", "review")),
)

_BY_ID = {p.id: p for p in POINTS}


def point(point_id: str) -> Point:
    return _BY_ID[point_id]

"""What flask-orcid reads from a record: names, emails, summaries, and ORCID's error bodies."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import messages
from .values import ExternalId, FuzzyDate, Organization

__all__ = ["AffiliationSummary", "Email", "ErrorInfo", "Person", "Record", "WorkSummary"]


@dataclass
class Email:
    email: str
    primary: bool = False
    verified: bool = False
    visibility: str | None = None


@dataclass
class Person:
    """The ``/person`` section: names and the emails this token may see."""

    orcid: str | None = None
    given_names: str | None = None
    family_name: str | None = None
    credit_name: str | None = None
    other_names: list[str] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)


@dataclass
class WorkSummary:
    """One work as ``GET /works`` lists it (one per group member)."""

    put_code: int | None
    title: str | None
    type: str | None
    publication_date: FuzzyDate | None = None
    external_ids: list[ExternalId] = field(default_factory=list)
    source_client_id: str | None = None
    source_name: str | None = None
    visibility: str | None = None
    url: str | None = None

    def self_ids(self) -> set[tuple[str, str]]:
        return {x.key() for x in self.external_ids if x.relationship == "self"}


@dataclass
class AffiliationSummary:
    """One affiliation as ``GET /educations`` (or another section) lists it."""

    put_code: int | None
    section: str
    organization: Organization | None
    department: str | None = None
    role_title: str | None = None
    start_date: FuzzyDate | None = None
    end_date: FuzzyDate | None = None
    source_client_id: str | None = None
    source_name: str | None = None
    visibility: str | None = None


@dataclass
class Record:
    """The parts of a whole record flask-orcid uses (prefill, reconciliation, display)."""

    orcid: str | None = None
    given_names: str | None = None
    family_name: str | None = None
    credit_name: str | None = None
    other_names: list[str] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    educations: list[AffiliationSummary] = field(default_factory=list)
    employments: list[AffiliationSummary] = field(default_factory=list)
    works: list[WorkSummary] = field(default_factory=list)
    #: qualifications, distinctions, invited positions, memberships and services
    other_affiliations: list[AffiliationSummary] = field(default_factory=list)
    #: trust markers from the member API's /summary (empty when it was not read): the public
    #: email domains ORCID verified (``example.edu``)
    verified_email_domains: list[str] = field(default_factory=list)

    @classmethod
    def from_person(
        cls,
        person: Person,
        educations: list[AffiliationSummary] | None = None,
        employments: list[AffiliationSummary] | None = None,
        works: list[WorkSummary] | None = None,
    ) -> Record:
        return cls(
            orcid=person.orcid,
            given_names=person.given_names,
            family_name=person.family_name,
            credit_name=person.credit_name,
            other_names=list(person.other_names),
            emails=list(person.emails),
            educations=list(educations or []),
            employments=list(employments or []),
            works=list(works or []),
        )


@dataclass
class ErrorInfo:
    """An ORCID error body (XML ``error:error``, its JSON twin, or OAuth ``{"error", …}``)."""

    status: int | None = None
    error_code: int | None = None
    developer_message: str | None = None
    user_message: str | None = None
    more_info: str | None = None
    #: the OAuth ``error`` value (``invalid_token``, ``forbidden``) for 401/403 JSON bodies
    error: str | None = None

    @property
    def existing_put_code(self) -> int | None:
        """For 409 / 9021: the put-code of the item we already added, when ORCID names it."""
        for text in (self.developer_message, self.user_message):
            code = messages.existing_put_code(text)
            if code is not None:
                return code
        return None

    @property
    def primary_orcid(self) -> str | None:
        """For 301 / 9007: the iD the deprecated record was merged into, when ORCID names it."""
        return messages.primary_orcid(self.developer_message)


# The readers return these classes; :mod:`.model` re-exports them, so callers import one place.

"""The deposit hook: what the repository tells flask-orcid when a thesis is published or changes.

Everything here only writes to the database (``orcid.publish``/``orcid.retract`` record the
desired state in the caller's transaction); the outbox worker talks to ORCID afterwards.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app, url_for

from flask_orcid import (
    Affiliation,
    Contributor,
    ExternalId,
    FuzzyDate,
    Organization,
    Work,
)

from . import metadata
from .db import db
from .invitees import person_key, subject_of
from .models import (
    ADVISOR,
    CO_AUTHOR,
    COMMITTEE_MEMBER,
    PUBLISHED,
    WITHDRAWN,
    Advisor,
    Thesis,
    User,
    utcnow,
)
from .orcid_setup import author_orcid, orcid

log = logging.getLogger(__name__)

#: CRediT role for advisors (API-FACTS §5: ORCID accepts the CRediT URIs as contributor roles).
SUPERVISION = "http://credit.niso.org/contributor-roles/supervision/"
#: The contributor role of each kind of person on a thesis: who supervised it, and a co-author
#: with ORCID's (original) "author" role, as CRediT has no role for authorship itself.
ROLE_URIS = {ADVISOR: SUPERVISION, COMMITTEE_MEMBER: SUPERVISION, CO_AUTHOR: "author"}

#: Degree names as they go to the ORCID record (the record is read worldwide; English, like
#: the institution's registered name).
DEGREE_TITLES = {
    "phd": "Doctor of Philosophy (PhD)",
    "edd": "Doctor of Education (EdD)",
    "mphil": "Master of Philosophy (MPhil)",
    "ms": "Master of Science (MS)",
    "ma": "Master of Arts (MA)",
    "mfa": "Master of Fine Arts (MFA)",
}


def assign_identifiers(thesis: Thesis) -> None:
    """Mint the handle and DOI from the configured prefixes (stable: derived from the thesis id)."""
    cfg = current_app.config
    year = (thesis.degree_date or dt.date.today()).year
    if not thesis.handle:
        thesis.handle = f"{cfg['REPOSITORY_HANDLE_PREFIX']}/etd.{thesis.id}"
    if not thesis.doi:
        thesis.doi = f"{cfg['REPOSITORY_DOI_PREFIX']}/etd.{year}.{thesis.id}"


def institution() -> Organization:
    cfg = current_app.config
    return Organization(
        name=cfg["REPOSITORY_INSTITUTION_NAME"],
        city=cfg["REPOSITORY_INSTITUTION_CITY"],
        region=cfg.get("REPOSITORY_INSTITUTION_REGION") or None,
        country=cfg["REPOSITORY_INSTITUTION_COUNTRY"],
        disambiguated_id=cfg["REPOSITORY_INSTITUTION_ROR"],
        disambiguation_source="ROR",
    )


def landing_url(thesis: Thesis) -> str:
    return url_for("public.landing", thesis_id=thesis.id, _external=True)


def build_work(thesis: Thesis, author_id: str | None) -> Work:
    """The thesis as an ORCID ``dissertation-thesis`` work."""
    contributors = [
        Contributor(
            credit_name=thesis.author_name,
            # Only the iD the student authenticated through OAuth; never a typed-in one.
            orcid=author_id,
            sequence="first",
            role="author",
        )
    ]
    for advisor in thesis.advisors:
        # ORCID asks us to send a contributor iD only when it was collected through OAuth: an iD
        # the person confirmed through an invitation goes, a typed one never does.
        contributors.append(Contributor(
            credit_name=advisor.name, sequence="additional",
            orcid=advisor.orcid if advisor.orcid_authenticated else None,
            role=ROLE_URIS.get(advisor.role, SUPERVISION),
        ))
    return Work(
        title=thesis.title,
        type="dissertation-thesis",
        subtitle=thesis.subtitle or None,
        short_description=(thesis.abstract or "")[:5000] or None,
        citation_type="formatted-unspecified",
        citation_value=metadata.citation_text(thesis),
        publication_date=FuzzyDate.from_date(thesis.degree_date) if thesis.degree_date else None,
        external_ids=[
            ExternalId("doi", thesis.doi, "self", f"https://doi.org/{thesis.doi}"),
            # API-FACTS §5: send the bare handle; its resolver is hdl.handle.net.
            ExternalId("handle", thesis.handle, "self", f"https://hdl.handle.net/{thesis.handle}"),
        ],
        url=landing_url(thesis),
        contributors=contributors,
        language_code=thesis.language or None,
        country=current_app.config["REPOSITORY_INSTITUTION_COUNTRY"] or None,
    )


def build_degree(thesis: Thesis) -> Affiliation:
    """The degree as an education affiliation at the configured institution."""
    start = FuzzyDate.parse(thesis.program_start) if thesis.program_start else None
    end = FuzzyDate.from_date(thesis.degree_date) if thesis.degree_date else None
    if start is None:
        # ORCID refuses an end date without a start date (API-FACTS §6, 400 / 9050).
        end = None
    return Affiliation(
        section="education",
        organization=institution(),
        department=thesis.department or None,
        role_title=DEGREE_TITLES.get(thesis.degree, thesis.degree) or None,
        start_date=start,
        end_date=end,
    )


def supervision_key(thesis: Thesis) -> str:
    """The outbox key of the thesis on the record of someone who supervised it."""
    return f"supervision:{thesis.id}"


def _supervisors(thesis: Thesis) -> list[tuple[Advisor, str]]:
    """(person, connection key) of each person on the thesis who confirmed their iD through
    an invitation and asked for the thesis on their own record."""
    people = {person_key(p): p for p in thesis.advisors if p.orcid_authenticated}
    found = []
    for invitation in orcid.invitations_for(subject_of(thesis)):
        person = people.get(invitation.person_key or "")
        if (person is not None and invitation.opted_in and invitation.account_key
                and invitation.orcid == person.orcid):
            found.append((person, str(invitation.account_key)))
    return found


def send_supervision(thesis: Thesis, author_id: str | None = None) -> int:
    """Queue the thesis for the record of each supervisor who opted in; how many."""
    supervisors = _supervisors(thesis)
    if supervisors:
        work = build_work(thesis, author_id or author_orcid(thesis.author))
        for _person, account_key in supervisors:
            # they asked for it on the invitation's page (the opt-in shows what is added):
            # that is their approval, so it does not wait for them on a page they never see
            orcid.publish(account_key, supervision_key(thesis), work, approved=True)
    return len(supervisors)


def supervision_updated(thesis: Thesis, person: Advisor, account: object) -> None:
    """Someone on the thesis confirmed their iD: a public thesis's works follow (the author's
    now names their iD; theirs is queued when they opted in)."""
    if thesis.status == PUBLISHED and not thesis.is_embargoed():
        send_to_orcid(thesis)


def send_to_orcid(thesis: Thesis, author_id: str | None = None) -> bool:
    """Queue the thesis and the degree for the author's record (and the thesis for its
    supervisors who asked for it). False when the author has no iD here."""
    author = thesis.author
    author_id = author_id or author_orcid(author)
    send_supervision(thesis, author_id)
    if author_id is None:
        return False
    thesis_key, degree_key = thesis.orcid_keys
    orcid.publish(author.key, thesis_key, build_work(thesis, author_id))
    orcid.publish(author.key, degree_key, build_degree(thesis))
    thesis.sent_to_orcid = True
    thesis.orcid_left_on_record = False
    log.info("thesis %s queued for ORCID record %s", thesis.id, author_id)
    return True


def publish(thesis: Thesis) -> None:
    """Accept: mint identifiers, make the thesis public, queue it for ORCID unless embargoed."""
    assign_identifiers(thesis)
    thesis.status = PUBLISHED
    thesis.published_at = utcnow()
    if not thesis.is_embargoed():
        send_to_orcid(thesis)


def updated(thesis: Thesis) -> None:
    """After an edit of a published thesis: the outbox PUTs the changed work (no-op if unchanged)."""
    if thesis.status == PUBLISHED and not thesis.is_embargoed():
        send_to_orcid(thesis)


def withdraw(thesis: Thesis) -> None:
    """Withdrawal keeps a tombstone page (the DOI must resolve) and removes the ORCID items."""
    thesis.status = WITHDRAWN
    thesis.withdrawn_at = utcnow()
    for _person, account_key in _supervisors(thesis):
        orcid.retract(account_key, supervision_key(thesis))
    if thesis.sent_to_orcid:
        for key in thesis.orcid_keys:
            orcid.retract(thesis.author.key, key)
        thesis.sent_to_orcid = False


def remember_left_on_record(user: User) -> None:
    """Before the author's connection goes: which theses are on their record (either item)."""
    for thesis in user.theses:
        if not thesis.sent_to_orcid:
            continue
        items = [orcid.item_state(user.key, key) for key in thesis.orcid_keys]
        thesis.orcid_left_on_record = any(i is not None and i.on_record for i in items)
        thesis.sent_to_orcid = False


def queue_published_theses(user: User, author_id: str) -> int:
    """On (re)connect: queue the student's public, unembargoed theses. Unchanged items are no-ops."""
    count = 0
    for thesis in user.theses:
        if (thesis.status == PUBLISHED and not thesis.is_embargoed()
                and send_to_orcid(thesis, author_id)):
            count += 1
    return count


def lift_embargoes(today: dt.date | None = None) -> list[Thesis]:
    """Theses whose embargo ended and that have not gone to ORCID yet are queued now."""
    today = today or dt.date.today()
    due = db.session.scalars(
        db.select(Thesis).where(
            Thesis.status == PUBLISHED,
            Thesis.sent_to_orcid.is_(False),
            Thesis.embargo_until.is_not(None),
            Thesis.embargo_until <= today,
        )
    ).all()
    lifted = [t for t in due if send_to_orcid(t)]
    return lifted


def _state_name(item) -> str | None:  # noqa: ANN001 - the outbox's OutboxItem row
    if item is None:
        return None
    if item.retracted:
        return "deleted" if item.state == "synced" else "retracted"
    if item.put_code is not None and item.state in ("pending", "failed", "parked"):
        return "updating"  # an older version is on the record; the change waits
    return item.state


def sync_state(thesis: Thesis) -> dict[str, object] | None:
    """The outbox's view of the thesis work and degree, for the admin pages (None: not queued)."""
    thesis_key, degree_key = thesis.orcid_keys
    item = orcid.item_state(thesis.author.key, thesis_key)
    if item is None:
        return None
    degree = orcid.item_state(thesis.author.key, degree_key)
    return {
        "state": _state_name(item),
        "put_code": item.put_code,
        "error": item.error_message,
        "degree_state": _state_name(degree),
        "degree_put_code": degree.put_code if degree is not None else None,
    }

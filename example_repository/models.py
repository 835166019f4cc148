"""The repository's own tables: people and theses. flask-orcid keeps its ``orcid_*`` tables apart."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from flask_orcid.sync.clock import utcnow

from .db import db


class User(db.Model):
    """A student or an admin of the graduate school."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    given_names: Mapped[str] = mapped_column(String(150))
    family_name: Mapped[str] = mapped_column(String(150))
    is_admin: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: bumped by every logout: a session cookie made before it (a copy) no longer signs in
    session_generation: Mapped[int] = mapped_column(default=0)

    theses: Mapped[list[Thesis]] = relationship(
        back_populates="author", order_by="Thesis.id.desc()"
    )

    def set_password(self, password: str) -> None:
        # Tests may choose a cheaper method; real sites keep Werkzeug's default (scrypt).
        method = current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def key(self) -> str:
        """The stable key flask-orcid knows this person by."""
        return str(self.id)

    @property
    def display_name(self) -> str:
        return f"{self.given_names} {self.family_name}".strip()


# Lifecycle of a thesis. ``published`` theses have a handle and a DOI; an embargo only holds
# back the PDF and the ORCID deposit until it lifts.
DRAFT = "draft"
SUBMITTED = "submitted"
CHANGES_REQUESTED = "changes_requested"
PUBLISHED = "published"
WITHDRAWN = "withdrawn"
STATUSES = (DRAFT, SUBMITTED, CHANGES_REQUESTED, PUBLISHED, WITHDRAWN)


class Thesis(db.Model):
    __tablename__ = "theses"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT, index=True)

    # the author as printed on the thesis
    given_names: Mapped[str] = mapped_column(String(150), default="")
    family_name: Mapped[str] = mapped_column(String(150), default="")
    email: Mapped[str] = mapped_column(String(254), default="")

    title: Mapped[str] = mapped_column(String(1000), default="")
    subtitle: Mapped[str | None] = mapped_column(String(1000))
    abstract: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="en")

    degree: Mapped[str] = mapped_column(String(20), default="")
    department: Mapped[str] = mapped_column(String(300), default="")
    institution: Mapped[str] = mapped_column(String(300), default="")
    program_start: Mapped[str | None] = mapped_column(String(10))  # "2021" or "2021-09"
    degree_date: Mapped[dt.date | None]
    embargo_until: Mapped[dt.date | None]

    pdf_file: Mapped[str | None] = mapped_column(String(64))  # name inside UPLOAD_FOLDER
    pdf_name: Mapped[str | None] = mapped_column(String(255))  # as the student uploaded it
    pdf_size: Mapped[int | None]

    handle: Mapped[str | None] = mapped_column(String(100), unique=True)
    doi: Mapped[str | None] = mapped_column(String(100), unique=True)
    # True once the thesis (and degree) were handed to flask-orcid's outbox
    sent_to_orcid: Mapped[bool] = mapped_column(default=False)
    # The author disconnected while the work and degree were on their ORCID record: the items
    # stay there, but this site can no longer change or remove them (issue 14, item 4).
    # The rights step (issue 14, item 10): a code of licenses.LICENSES, and when the student
    # accepted the distribution agreement.
    license: Mapped[str | None] = mapped_column(String(64))
    agreement_accepted_at: Mapped[dt.datetime | None]
    orcid_left_on_record: Mapped[bool] = mapped_column(default=False, server_default="0")
    review_note: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    published_at: Mapped[dt.datetime | None]
    withdrawn_at: Mapped[dt.datetime | None]

    author: Mapped[User] = relationship(back_populates="theses")
    advisors: Mapped[list[Advisor]] = relationship(
        back_populates="thesis", order_by="Advisor.position", cascade="all, delete-orphan"
    )

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.replace(";", ",").split(",") if k.strip()]

    @property
    def author_name(self) -> str:
        return f"{self.given_names} {self.family_name}".strip()

    @property
    def is_public(self) -> bool:
        return self.status in (PUBLISHED, WITHDRAWN)

    def is_embargoed(self, today: dt.date | None = None) -> bool:
        today = today or dt.date.today()
        return self.embargo_until is not None and self.embargo_until > today

    @property
    def editable_by_student(self) -> bool:
        return self.status in (DRAFT, CHANGES_REQUESTED)

    @property
    def orcid_keys(self) -> tuple[str, str]:
        """The outbox keys of the thesis work and the degree affiliation."""
        return f"thesis:{self.id}", f"degree:{self.id}"


#: What a person named on a thesis (other than its author) did.
ADVISOR = "advisor"
COMMITTEE_MEMBER = "committee_member"
CO_AUTHOR = "co_author"
CONTRIBUTOR_ROLES = (ADVISOR, COMMITTEE_MEMBER, CO_AUTHOR)


class Advisor(db.Model):
    """A person named on a thesis besides its author: an advisor, a committee member or a
    co-author. A typed iD is unauthenticated; ``orcid_authenticated`` is True only when the
    person proved the iD through ORCID's OAuth (an invitation, issue 15)."""

    __tablename__ = "advisors"

    id: Mapped[int] = mapped_column(primary_key=True)
    thesis_id: Mapped[int] = mapped_column(ForeignKey("theses.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(150))
    orcid: Mapped[str | None] = mapped_column(String(19))
    role: Mapped[str] = mapped_column(String(30), default=ADVISOR, server_default=ADVISOR)
    email: Mapped[str | None] = mapped_column(String(254))
    orcid_authenticated: Mapped[bool] = mapped_column(default=False, server_default="0")

    thesis: Mapped[Thesis] = relationship(back_populates="advisors")


@event.listens_for(Session, "before_flush")
def _people_changes_touch_their_thesis(session: Session, _context: object, _objects: object) -> None:
    """A change to anyone on a thesis (an iD authenticated through an invitation, a name
    edited, a person added or removed) is a change of the thesis: its ``updated_at`` is the
    OAI-PMH datestamp harvesters ask for with ``from`` (docs/exports.md)."""
    changed = [obj for obj in (*session.new, *session.deleted) if isinstance(obj, Advisor)]
    changed += [obj for obj in session.dirty
                if isinstance(obj, Advisor) and session.is_modified(obj)]
    with session.no_autoflush:
        for advisor in changed:
            thesis = advisor.thesis or (
                session.get(Thesis, advisor.thesis_id) if advisor.thesis_id else None
            )
            if thesis is not None:
                thesis.updated_at = utcnow()

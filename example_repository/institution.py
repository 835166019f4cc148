"""The repository's people for flask-orcid's institution pages (issue 16): its students and the
authors of its published theses for the people page, and those past authors with no ORCID
connection here as the source of a backfill campaign."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask

from flask_orcid import Graduate, InstitutionPerson

from .db import db
from .deposit import DEGREE_TITLES, build_degree, build_work, landing_url
from .models import PUBLISHED, Thesis, User
from .orcid_setup import author_orcid, orcid

__all__ = ["configure", "graduates", "people"]


def configure(app: Flask) -> None:
    """The degree-granting institution, for flask-orcid's campaigns and search, is the
    repository's own (``REPOSITORY_INSTITUTION_*``) unless the site sets it apart."""
    for part in ("NAME", "CITY", "REGION", "COUNTRY", "ROR"):
        app.config.setdefault(f"ORCID_INSTITUTION_{part}",
                              app.config.get(f"REPOSITORY_INSTITUTION_{part}") or None)


def _published(user: User) -> list[Thesis]:
    return [t for t in user.theses if t.status == PUBLISHED]


@orcid.people_source
def people() -> Iterator[InstitutionPerson]:
    """Every student account; those with a published thesis count as graduates."""
    users = db.session.scalars(db.select(User).where(User.is_admin.is_(False))
                               .order_by(User.family_name, User.given_names))
    for user in users:
        yield InstitutionPerson(key=f"user:{user.id}", name=user.display_name, email=user.email,
                                kind="graduate" if _published(user) else "student",
                                user_key=user.key)


@orcid.graduates_source
def graduates() -> Iterator[Graduate]:
    """Authors of published, unembargoed theses who have not connected an iD here: the thesis
    and the degree go to their record under the keys the deposit uses."""
    theses = db.session.scalars(db.select(Thesis).where(Thesis.status == PUBLISHED)
                                .order_by(Thesis.id))
    for thesis in theses:
        if thesis.is_embargoed() or author_orcid(thesis.author) is not None:
            continue
        thesis_key, degree_key = thesis.orcid_keys
        yield Graduate(
            name=thesis.author_name, email=thesis.email or thesis.author.email,
            title=thesis.title, date=thesis.degree_date.isoformat() if thesis.degree_date
            else "", degree=DEGREE_TITLES.get(thesis.degree, thesis.degree),
            department=thesis.department or None, doi=thesis.doi, handle=thesis.handle,
            url=landing_url(thesis), given_names=thesis.given_names,
            family_names=thesis.family_name, key=f"user:{thesis.author_id}",
            work=build_work(thesis, None), degree_item=build_degree(thesis),
            work_key=thesis_key, degree_key=degree_key)

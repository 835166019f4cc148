"""What flask-orcid's integration check (``flask orcid check``, the admin page) reads on this
repository: a test student account it may connect and disconnect, the submission step with
its explanation of ORCID, the prefilled deposit form, and thesis landing pages with iDs.

The landing pages bring their metadata exports along (JSON-LD and any other format they link
with ``rel="describedby"``); an OAI-PMH endpoint at ``/oai`` is added when the site has one.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from flask import current_app, url_for

from flask_orcid import CheckTargets

from .db import db
from .models import PUBLISHED, Thesis, User
from .orcid_setup import author_orcid, orcid

#: The check's own account: a student nobody signs in as (its password is random and unused).
CHECK_EMAIL = "orcid-check@example.invalid"
#: How many landing pages the check reads (the most recent with an authenticated author).
PUBLIC_PAGES = 2


def check_user() -> User:
    """The test account, created the first time the check runs."""
    user = db.session.scalar(db.select(User).where(User.email == CHECK_EMAIL))
    if user is None:
        user = User(email=CHECK_EMAIL, given_names="ORCID", family_name="Integration Check")
        user.set_password(secrets.token_urlsafe(24))
        db.session.add(user)
        db.session.commit()
    return user


def _sign_in(user_id: int, generation: int, session: MutableMapping[str, Any]) -> None:
    """The session this site's login writes (example_repository.auth._sign_in)."""
    session["user_id"] = user_id
    session["generation"] = generation


def public_pages() -> list[str]:
    """Landing pages of published theses whose author connected an iD; one with a typed-in
    advisor iD first, so the check also sees an unauthenticated iD."""
    theses = db.session.scalars(
        db.select(Thesis).where(Thesis.status == PUBLISHED)
        .order_by(Thesis.published_at.desc()).limit(50)
    ).all()
    shown = [t for t in theses if author_orcid(t.author) is not None]
    shown.sort(key=lambda t: not any(a.orcid for a in t.advisors))
    return [url_for("public.landing", thesis_id=t.id) for t in shown[:PUBLIC_PAGES]]


def exports() -> list[str]:
    """Exports that are not linked from a landing page: the OAI-PMH endpoint, when present."""
    if not any(rule.rule == "/oai" for rule in current_app.url_map.iter_rules()):
        return []
    return [f"/oai?verb=ListRecords&metadataPrefix={prefix}"
            for prefix in ("oai_dc", "oai_etdms")]


@orcid.check_targets
def check_targets() -> CheckTargets:
    user = check_user()
    user_id, generation = user.id, user.session_generation or 0
    return CheckTargets(
        user_key=user.key,
        sign_in=lambda session: _sign_in(user_id, generation, session),
        connect_page=url_for("student.start"),
        form_page=url_for("student.new_thesis"),
        public_pages=public_pages(),
        exports=exports(),
    )

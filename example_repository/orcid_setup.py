"""Where the repository meets flask-orcid: the extension object and the three hooks it asks for."""

from __future__ import annotations

import logging

from flask import current_app, g, url_for
from flask_babel import get_locale

from flask_orcid import ORCID, UserInfo
from flask_orcid.protocol.identifiers import orcid_uri

from .db import db
from .models import Thesis, User

log = logging.getLogger(__name__)

orcid = ORCID(db=db)


@orcid.current_user_loader
def current_user() -> UserInfo | None:
    """Who is asking: the logged-in student, with what ORCID's sign-in screen may be prefilled."""
    user = g.get("user")
    if user is None:
        return None
    return UserInfo(
        key=user.key,
        given_names=user.given_names,
        family_names=user.family_name,
        email=user.email,
        locale=str(get_locale()),
    )


@orcid.admin_checker
def is_admin() -> bool:
    user = g.get("user")
    return bool(user is not None and user.is_admin)


def author_orcid(user) -> str | None:  # noqa: ANN001
    """The author's authenticated iD, or None once they disconnected (it then leaves every page)."""
    account = orcid.get_account(user.key)
    return account.orcid if account is not None else None


def author_trust(user):  # noqa: ANN001, ANN201 - the author's RecordSummary or None
    """ORCID's trust markers for the author's connected record (verified email domains,
    validated counts), for the admin review page; None when not connected or unknown."""
    return orcid.trust_markers(user.key)


def id_uri(orcid_id: str) -> str:
    """The iD's URI in the configured environment (sandbox and emulator iDs have their own host)."""
    cfg = current_app.config
    return orcid_uri(
        orcid_id, environment=cfg["ORCID_ENVIRONMENT"], emulator_url=cfg.get("ORCID_EMULATOR_URL")
    )


@orcid.user_describer
def describe_user(user_key: str) -> tuple[str, str] | None:
    """The admin's ORCID delivery page names the student, linking to write to them."""
    user = _user(user_key)
    return (user.display_name, f"mailto:{user.email}") if user is not None else None


@orcid.item_describer
def describe_item(user_key: str, key: str) -> tuple[str, str] | None:
    """``thesis:12`` / ``degree:12`` / ``supervision:12`` -> the thesis title, linking to its
    review page."""
    kind, _sep, ident = key.partition(":")
    if kind not in ("thesis", "degree", "supervision") or not ident.isdigit():
        return None
    thesis = db.session.get(Thesis, int(ident))
    if thesis is None:
        return None
    return thesis.title or key, url_for("admin.review", thesis_id=thesis.id)


def _user(user_key: str) -> User | None:
    return db.session.get(User, int(user_key)) if str(user_key).isdigit() else None

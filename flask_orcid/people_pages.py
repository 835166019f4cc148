"""The admin's people page (issue 16, item 1): the institution's people with their state here
and, on request, the record holders ORCID's search finds at the institution who have not
connected, each with an "invite" button (:meth:`~flask_orcid.ORCID.invite`).

Admins only (the host's ``admin_checker``). The search calls ORCID, so it runs only when the
admin asks for it (``?search=1``), never on every view of the page.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from .errors import ConfigurationError, ORCIDError, ValidationError
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .people import people_states, record_holders
from .protocol.identifiers import is_valid_orcid_id
from .safety import check_csrf, private_page_headers
from .state import get_state
from .sync import directory

__all__ = ["CONNECTION_LABELS", "PEOPLE_SUBJECT", "bp"]

log = logging.getLogger(__name__)

bp = Blueprint("orcid_people", __name__, template_folder="templates")
bp.after_request(private_page_headers)

#: the subject of the invitations sent from this page (one per record holder)
PEOPLE_SUBJECT = "people:connect"

CONNECTION_LABELS = {
    directory.CONNECTED: _l("Connected"),
    directory.INVALID: _l("Connection no longer valid"),
    directory.NOT_CONNECTED: _l("Not connected"),
}
KIND_LABELS = {"student": _l("Student"), "graduate": _l("Graduate"), "staff": _l("Staff")}


def _ext() -> Any:
    return get_state().extension


def _require_admin() -> None:
    if not _ext().is_admin():
        abort(403)


@bp.get("/admin/people")
def people() -> Any:
    """Everyone the host lists, then (``?search=1``) the record holders not connected here."""
    _require_admin()
    ext = _ext()
    listed = ext.people()
    kind = request.args.get("kind") or None
    states = people_states(p for p in listed if kind is None or p.kind == kind)
    holders, search_error = None, None
    if request.args.get("search") == "1":
        try:
            holders = record_holders(listed)
        except (ConfigurationError, ORCIDError) as exc:
            log.warning("the people page's search failed: %s", type(exc).__name__)
            search_error = str(exc) if isinstance(exc, ConfigurationError) else _(
                "ORCID's search did not answer. Nothing was changed; try again later.")
    return render_template(
        "orcid/people.html", states=states, holders=holders, search_error=search_error,
        kind=kind, kinds=KIND_LABELS, connection_labels=CONNECTION_LABELS,
        counts={c: sum(1 for s in states if s.connection == c) for c in CONNECTION_LABELS})


@bp.post("/admin/people/invite")
def invite() -> Any:
    """Invite one record holder to connect (the email typed here, or their public one)."""
    check_csrf()
    _require_admin()
    ext = _ext()
    orcid = request.form.get("orcid", "").strip()
    name = request.form.get("name", "").strip()
    email = request.form.get("email", "").strip()
    lang = request.form.get("lang", "en")
    if not is_valid_orcid_id(orcid):
        abort(400)
    try:
        invitation = ext.invite(
            subject=PEOPLE_SUBJECT, name=name or orcid, email=email, role="researcher",
            lang=lang, inviter=ext.current_user(), person=f"orcid:{orcid}", typed_orcid=orcid,
            subject_title=None, offer_work=False,
            inviter_name=current_app.config.get("ORCID_SITE_NAME"))
    except ValidationError:
        flash(_("Type the email address to send the invitation to."), "orcid")
        return redirect(url_for(".people", search=1, _anchor=f"holder-{orcid}"))
    if invitation.last_error:
        flash(_("The invitation to %(email)s could not be sent: %(error)s", email=email,
                error=invitation.last_error), "orcid")
    else:
        flash(_("An invitation was sent to %(email)s.", email=email), "orcid")
    return redirect(url_for(".people", search=1))

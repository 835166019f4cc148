"""The ``orcid_invitations`` blueprint: the invitee's pages and the inviter's buttons.

- ``GET /invitations/<token>``: who asks, why, and what will be done with the iD, in the
  invitation's language; the opt-in to the work when the site offers it; then a POST to
  ``/invitations/<token>/start`` sends the browser to ORCID with the invitee's names and email
  prefilled. ORCID answers at the extension's one registered callback (``orcid.callback``),
  which hands an invitation's answer to :mod:`.invitation_signin`.
- A link that was answered shows the iD recorded (and, for a connection made through it, a
  button to withdraw the permission); an expired, cancelled or replaced link says so.
- ``POST /invitations/manage/<id>/resend`` and ``.../cancel``: for whoever the host's
  ``invitation_permission`` hook allows.

The token is in the URL: the pages send no Referer and are never cached
(:func:`.safety.private_page_headers`).
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.common.security import generate_token
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, format_date
from werkzeug.wrappers import Response

from .checks import orcid_reachable
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .invitation_mail import role_label, signing_keys, site_name
from .oauth_state import orcid_lang, remember_state
from .page_errors import (
    InvitationClosedError,
    InvitationFailedError,
    InvitationUnknownError,
    InvitationUsedError,
    signed_in_user,
)
from .protocol.oauth import authorization_url
from .safety import check_csrf, private_page_headers, safe_next
from .state import get_state
from .sync import invitations as inv
from .sync import oauth_states
from .sync import states as st

__all__ = ["DONE", "STATUS_LABELS", "WORK_SCOPES", "bp", "check_answerable", "status_label"]

log = logging.getLogger(__name__)

bp = Blueprint("orcid_invitations", __name__, template_folder="templates")
bp.after_request(private_page_headers)

#: the scopes of an invitation: the iD only, or (opted in to the work) what adding a work and
#: first reading the record need (ORCID's works tutorial asks for both, API-FACTS §3)
ID_SCOPES = ("/authenticate",)
WORK_SCOPES = ("/read-limited", "/activities/update")
#: the session key naming the invitation this browser just answered (its thank-you page)
DONE = "_orcid_invitation_done"

STATUS_LABELS = {
    st.INVITATION_UNSENT: _l("Not sent"),
    st.INVITATION_SENT: _l("Sent"),
    st.INVITATION_OPENED: _l("Opened"),
    st.INVITATION_AUTHENTICATED: _l("iD confirmed"),
    st.INVITATION_DECLINED: _l("Declined"),
    st.INVITATION_EXPIRED: _l("Expired"),
    st.INVITATION_CANCELLED: _l("Cancelled"),
}


def status_label(invitation: Any) -> tuple[str, str]:
    """(status, label in the reader's language) as the inviter should read it now."""
    status = inv.effective_status(invitation)
    return status, str(STATUS_LABELS.get(status, status))


@bp.record_once
def _install(state: Any) -> None:
    app: Flask = state.app
    app.jinja_env.globals["orcid_invitation_status"] = status_label


def _ext() -> Any:
    return get_state().extension


def _unknown() -> InvitationUnknownError:
    return InvitationUnknownError(
        _("This link does not lead to an invitation: it may be incomplete (check that you "
          "copied all of it), or a newer email replaced it. Nothing was changed."),
        retry=False)


def _find(token: str) -> Any:
    ext = _ext()
    invitation = inv.find_by_token(ext.db.session, ext._models(), token,
                                   signing_keys(current_app))
    if invitation is None:
        raise _unknown()
    return invitation


def check_answerable(invitation: Any) -> None:
    """Raise the page for an invitation that cannot be answered any more (in its language)."""
    status = inv.effective_status(invitation)
    who = invitation.inviter_name or site_name(current_app)
    if status == st.INVITATION_CANCELLED:
        raise InvitationClosedError(
            _("%(inviter)s withdrew this invitation, so the link no longer works. Nothing was "
              "changed. If you think this is a mistake, ask them or write to us.", inviter=who),
            retry=False, lang=invitation.lang)
    if status == st.INVITATION_EXPIRED:
        raise InvitationClosedError(
            _("This invitation expired on %(date)s. Nothing was changed. Ask %(inviter)s to "
              "send you a new one.", date=format_date(invitation.expires_at, format="long"),
              inviter=who),
            retry=False, lang=invitation.lang)
    if status == st.INVITATION_AUTHENTICATED:
        raise InvitationUsedError(
            _("This invitation was already answered: the ORCID iD %(orcid)s was confirmed "
              "with it. Nothing more is needed.", orcid=invitation.orcid),
            retry=False, lang=invitation.lang)


def _context(invitation: Any, token: str) -> dict[str, Any]:
    return {
        "invitation": invitation,
        "token": token,
        "site": site_name(current_app),
        "inviter": invitation.inviter_name or site_name(current_app),
        "role": role_label(invitation.role),
        "expires": format_date(invitation.expires_at, format="long"),
        "support_email": current_app.config.get("ORCID_SUPPORT_EMAIL"),
        "orcid_page_lang": invitation.lang,
    }


@bp.get("/invitations/<token>")
def show(token: str) -> Any:
    """The invitation's page (or, once answered, what was recorded)."""
    ext = _ext()
    invitation = _find(token)
    with force_locale(invitation.lang):
        if inv.effective_status(invitation) == st.INVITATION_AUTHENTICATED:
            return _answered(invitation, token)
        check_answerable(invitation)
        inv.mark_opened(invitation)
        ext.db.session.commit()
        return render_template("orcid/invitation.html", **_context(invitation, token))


def _answered(invitation: Any, token: str) -> Any:
    """The thank-you page right after the answer; the "already used" page later on."""
    ext = _ext()
    just_done = session.pop(DONE, None) == invitation.id
    account = None
    if inv.is_invitee_key(invitation.account_key):
        account = ext.get_account(invitation.account_key)
    body = render_template(
        "orcid/invitation_done.html", **_context(invitation, token), just_done=just_done,
        account=account,
        mismatch=bool(invitation.typed_orcid and invitation.typed_orcid != invitation.orcid))
    return body, (200 if just_done else 409)


@bp.post("/invitations/<token>/start")
def start(token: str) -> Response:
    """Send the invitee to ORCID's sign-in, names and email prefilled."""
    check_csrf()
    ext = _ext()
    invitation = _find(token)
    with force_locale(invitation.lang):
        check_answerable(invitation)
        page = url_for(".show", token=token)
        if not orcid_reachable():
            raise InvitationFailedError(
                _("ORCID's sign-in page is not answering right now, so we did not send you "
                  "there. Nothing was changed. Please try again in a few minutes."),
                next_url=page, lang=invitation.lang)
        opted_in = bool(invitation.offer_work) and request.form.get("add_work") == "yes"
        user = ext.current_user()
        state = generate_token(40)
        remember_state(state, page, user.key if user else None, None,
                       invitation={"id": invitation.id, "add": opted_in})
        oauth_states.record(ext.db.session, ext._models(), state, user.key if user else None,
                            invitation_id=invitation.id)
        url = authorization_url(
            get_state().endpoints, current_app.config["ORCID_CLIENT_ID"],
            url_for("orcid.callback", _external=True),
            WORK_SCOPES if opted_in else ID_SCOPES, state,
            given_names=invitation.given_names, family_names=invitation.family_names,
            email=invitation.email, lang=orcid_lang(invitation.lang))
    log.info("invitation %s: the invitee goes to ORCID (work %s)", invitation.id,
             "opted in" if opted_in else "not offered or declined")
    return redirect(url)


@bp.post("/invitations/<token>/disconnect")
def disconnect(token: str) -> Any:
    """Withdraw the permission an invitee gave to add the work to their record."""
    check_csrf()
    ext = _ext()
    invitation = _find(token)
    if not inv.is_invitee_key(invitation.account_key):
        abort(404)
    with force_locale(invitation.lang):
        account = ext.get_account(invitation.account_key)
        environment = account.environment if account is not None else None
        orcid_id = ext.disconnect(invitation.account_key) if account is not None else None
        return render_template("orcid/invitation_disconnected.html",
                               **_context(invitation, token), orcid=orcid_id or invitation.orcid,
                               environment=environment,
                               revocation_queued=_revocation_pending(orcid_id))


def _revocation_pending(orcid_id: str | None) -> bool:
    if orcid_id is None:
        return False
    model = _ext()._models().PendingRevocation
    return _ext().db.session.query(model).filter(model.orcid == orcid_id).first() is not None


# -- the inviter's buttons ----------------------------------------------------------------------

def _managed(invitation_id: int) -> Any:
    """The invitation, if the current user may manage its subject (else 401 / 403)."""
    check_csrf()
    ext = _ext()
    user = signed_in_user(_("Sign in to this site to manage invitations."))
    invitation = ext.get_invitation(invitation_id)
    if invitation is None or not ext.may_invite(invitation.subject, user):
        abort(403)
    return invitation


def _back() -> Response:
    return redirect(safe_next(request.form.get("next")) or url_for("orcid.connection"))


@bp.post("/invitations/manage/<int:invitation_id>/resend")
def resend(invitation_id: int) -> Response:
    invitation = _managed(invitation_id)
    if _ext().resend_invitation(invitation):
        flash(_("A new invitation was sent to %(email)s; the earlier link no longer works.",
                email=invitation.email), "success")
    elif invitation.last_error:
        flash(_("The invitation to %(email)s could not be sent: %(error)s",
                email=invitation.email, error=invitation.last_error), "warning")
    else:
        flash(_("This invitation was answered or cancelled, so it cannot be sent again."),
              "info")
    return _back()


@bp.post("/invitations/manage/<int:invitation_id>/cancel")
def cancel(invitation_id: int) -> Response:
    invitation = _managed(invitation_id)
    if _ext().cancel_invitation(invitation):
        flash(_("The invitation to %(email)s was cancelled: its link no longer works.",
                email=invitation.email), "info")
    else:
        flash(_("This invitation was already answered or cancelled."), "info")
    return _back()

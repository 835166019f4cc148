"""Pages of the outbox: the researcher's "what we wrote to your record", the admin page, and
the webhook callback. A blueprint of its own (``orcid_outbox``) under ``ORCID_URL_PREFIX``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import flask_babel
import sqlalchemy as sa
from babel import dates as babel_dates
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from .errors import ConfigurationError
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .i18n import ngettext
from .page_errors import signed_in_user
from .preview import KIND_LABELS
from .protocol.identifiers import is_valid_orcid_id, orcid_uri
from .safety import check_csrf, private_page_headers, safe_next
from .state import get_state
from .sync import models as m
from .sync import outbox as ob
from .sync import webhooks
from .sync.reconcile import request_sync

log = logging.getLogger(__name__)

bp = Blueprint("orcid_outbox", __name__, template_folder="templates")
bp.after_request(private_page_headers)

#: What the researcher reads for each state.
STATE_LABELS = {
    m.PENDING: _l("Waiting to be sent"),
    m.SYNCED: _l("On your record"),
    m.FAILED: _l("Will be retried"),
    m.PARKED: _l("Not sent"),
    m.REMOVED: _l("Removed by you"),
    m.AWAITING: _l("Waiting for your approval"),
    m.DECLINED: _l("Declined by you (never sent)"),
}


#: Why an item is not on the record, in the researcher's words (the stored message is
#: for admins; ORCID's own message is shown when ORCID refused the item).
REASONS = {
    m.PARK_AUTH: _l("ORCID no longer accepts this site's permission. Connect your iD again "
                     "and it will be sent."),
    m.PARK_SCOPE: _l("This site lacks the permission to update your record. Connect your iD "
                      "again to grant it."),
    m.PARK_GAVE_UP: _l("ORCID could not be reached after several attempts. The site's "
                        "administrators can send it again."),
    m.PARK_LOCKED: _l("ORCID has locked your record. Once ORCID unlocks it, the site's "
                       "administrators can send this again."),
    m.PARK_DEACTIVATED: _l("Your ORCID record is deactivated, so nothing can be added to it."),
    m.PARK_MOVED: _l("ORCID merged your record into another iD. Connect that iD and this will "
                      "be sent to it."),
}


def _ext() -> Any:
    return get_state().extension


def _user_key_or_fail() -> str:
    return str(signed_in_user(
        _("Sign in to this site to see what it wrote to your ORCID record.")).key)


def orcid_item_url(row: Any, account: Any) -> str | None:
    """Where the researcher sees the item: their record on ORCID (items have no own page)."""
    if account is None or not row.on_record:
        return None
    return orcid_uri(account.orcid, account.environment or "production",
                     current_app.config.get("ORCID_EMULATOR_URL"))


@bp.get("/items")
def items() -> Any:
    """Everything this site wrote or will write to the researcher's record."""
    user_key = _user_key_or_fail()
    ext = _ext()
    return render_template("orcid/items.html", **items_context(ext, user_key))


def items_context(ext: Any, user_key: str) -> dict[str, Any]:
    """Template data for the item list (also used by the connection page's block)."""
    account = ext.get_account(user_key)
    rows = ext.items_for(user_key)
    return {
        "account": account,
        "items": [{"row": r, "label": state_label(r),
                   "kind": KIND_LABELS.get(r.kind, r.kind), "reason": _reason(r),
                   "url": orcid_item_url(r, account)} for r in rows],
        "support_email": current_app.config.get("ORCID_SUPPORT_EMAIL"),
    }


def state_label(row: Any) -> Any:
    """What the researcher reads for ``row``: an item whose older version is on the record
    is "on your record, update pending", never "not sent"."""
    if row.put_code is not None and row.state in (m.PENDING, m.FAILED, m.PARKED):
        return _("On your record, update pending")
    return STATE_LABELS.get(row.state, row.state)


def _reason(row: Any) -> Any:
    if row.state == m.FAILED:
        return _("ORCID could not be reached; it will be retried automatically.")
    if row.state != m.PARKED:
        return None
    return REASONS.get(row.park_reason) or row.error_message


@bp.post("/items/resend")
def resend() -> Any:
    """Send again an item the researcher removed (their explicit choice)."""
    check_csrf()
    user_key = _user_key_or_fail()
    key = request.form.get("key", "")
    ext = _ext()
    if not ext.resend(user_key, key):
        abort(404)
    ext.db.session.commit()
    flash(_("It will be sent to your ORCID record again shortly."), "orcid")
    # back to the page the button was on (the item list, or the connection page)
    return redirect(safe_next(request.form.get("next")) or url_for("orcid_outbox.items"))


# -- admin ------------------------------------------------------------------------------------

def _require_admin() -> None:
    if not _ext().is_admin():
        abort(403)


@bp.get("/admin")
def admin() -> Any:
    """Counts per state, rows needing attention, and the latest events."""
    _require_admin()
    ext = _ext()
    models = ext.models
    session = ext.db.session
    Item, Event = models.Item, models.Event
    attention = session.scalars(
        sa.select(Item).where(Item.state.in_((m.PARKED, m.FAILED)))
        .order_by(Item.updated_at.desc()).limit(200)
    ).all()
    events = session.scalars(
        sa.select(Event).order_by(Event.id.desc())
        .limit(max(1, min(1000, request.args.get("events", 100, type=int) or 100)))
    ).all()
    return render_template(
        "orcid/admin.html",
        counts=ob.counts(session, models),
        attention=attention,
        events=events,
        labels=STATE_LABELS,
        approval_required=ext.approval_required,
        **_described(ext, [*attention, *events]),
    )


def _described(ext: Any, rows: list[Any]) -> dict[str, Any]:
    """The host's names for the users and items of ``rows`` (each asked once)."""
    users: dict[str, Any] = {}
    items: dict[tuple[str, str], Any] = {}
    for row in rows:
        if row.user_key not in users:
            users[row.user_key] = ext.describe("user", row.user_key)
        if row.key and (row.user_key, row.key) not in items:
            items[(row.user_key, row.key)] = ext.describe("item", row.user_key, row.key)
    return {"user_names": users, "item_names": items, "when": local_datetime}


def local_datetime(value: Any) -> str:
    """A stored UTC time in the reader's language and time zone (Flask-Babel's selectors when
    the host uses Flask-Babel, else UTC)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    locale = "en"
    tzinfo: Any = dt.UTC
    try:
        locale = str(flask_babel.get_locale() or "en")
        tzinfo = flask_babel.get_timezone() or dt.UTC
    except (AttributeError, KeyError, RuntimeError):
        pass
    try:
        return str(babel_dates.format_datetime(value, "medium", tzinfo=tzinfo, locale=locale))
    except (ValueError, LookupError):
        return value.strftime("%Y-%m-%d %H:%M UTC")


@bp.post("/admin/retry")
def admin_retry() -> Any:
    check_csrf()
    _require_admin()
    ext = _ext()
    key = request.form.get("key") or None
    user_key = request.form.get("user_key") or None
    parked = request.form.get("parked") == "1"
    n = ob.retry(ext.db.session, ext.models, parked=parked, key=key, user_key=user_key)
    ext.db.session.commit()
    ext.wake_delivery()
    flash(ngettext("%(num)d item scheduled for delivery.", "%(num)d items scheduled for delivery.", n),
          "orcid")
    return redirect(url_for("orcid_outbox.admin"))


# -- webhook callback -------------------------------------------------------------------------

@bp.route("/webhook/<orcid>/<sig>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def webhook(orcid: str, sig: str) -> Response:
    """ORCID's notification that a record changed: schedule a sync of that record only.

    Answers 204 at once (ORCID retries non-2xx answers, API-FACTS §9); a wrong method, iD or
    signature gets 404, the same answer as an unknown URL.
    """
    if request.method != "POST" or not is_valid_orcid_id(orcid) or not webhooks.verify(
        current_app.config, orcid, sig
    ):
        abort(404)
    ext = _ext()
    if ext.get_account_by_orcid(orcid) is not None:
        request_sync(ext.db.session, ext.models, orcid)
        ext.db.session.commit()
        ext.wake_delivery()
    return Response(status=204)


def callback_url(app: Flask, orcid: str) -> str:
    """The public URL ORCID should call for ``orcid``.

    Built from ``ORCID_WEBHOOK_BASE_URL`` (the site's public root, e.g.
    ``https://theses.example.edu``) or, failing that, Flask's ``SERVER_NAME``.
    """
    path_sig = webhooks.signature(app.config, orcid)
    base = app.config.get("ORCID_WEBHOOK_BASE_URL")
    with app.app_context():
        if base:
            with app.test_request_context("/", base_url=base):
                return url_for("orcid_outbox.webhook", orcid=orcid, sig=path_sig,
                               _external=True)
        if not app.config.get("SERVER_NAME"):
            raise ConfigurationError(
                "Set ORCID_WEBHOOK_BASE_URL to your site's public address (for example "
                "https://theses.example.edu) so ORCID knows where to send webhook callbacks."
            )
        return url_for("orcid_outbox.webhook", orcid=orcid, sig=path_sig, _external=True)


def exempt_from_csrf(app: Flask) -> None:
    """Flask-WTF's CSRFProtect would refuse ORCID's callback POST; exempt that one view."""
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(webhook)


__all__ = ["KIND_LABELS", "STATE_LABELS", "bp", "callback_url", "exempt_from_csrf",
           "items_context"]

"""The admin's campaign pages (issue 16, item 2): start a campaign from a CSV or from the site's
graduates, watch it run (counts and a progress bar, refreshed while emails go out), filter and
export the per-person status, record bounces, pause and resume.

Admins only (the host's ``admin_checker``); every POST checks CSRF. Sending happens in the run
step (``flask orcid campaign run``, cron), or in a thread of the web process when the admin
presses "Send now": never inside the request.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup, escape

from .campaign_export import status_csv
from .campaign_runner import start_thread, thread_running
from .errors import ConfigurationError
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .i18n import ngettext
from .preview import KIND_LABELS
from .safety import check_csrf, private_page_headers
from .state import get_state
from .sync import campaign_reasons as reasons
from .sync import campaigns as cp

__all__ = ["REASON_LABELS", "STATUS_LABELS", "bp", "progress_of", "reason_html"]

bp = Blueprint("orcid_campaigns", __name__, template_folder="templates")
bp.after_request(private_page_headers)

STATUS_LABELS = {
    cp.QUEUED: _l("Queued"),
    cp.SENDING: _l("Sending"),
    cp.INVITED: _l("Invited"),
    cp.REMINDED: _l("Reminded"),
    cp.OPENED: _l("Opened"),
    cp.CONNECTED: _l("Connected"),
    cp.DELIVERED: _l("Delivered"),
    cp.DECLINED: _l("Declined"),
    cp.BOUNCED: _l("Bounced"),
    cp.FAILED: _l("Failed"),
}
#: our own reasons (:mod:`.sync.campaign_reasons`) in the reader's language
REASON_LABELS = {
    reasons.UNCONFIRMED.code: _l(
        "The run stopped while this email was being handed to the mail server, so it may not "
        "have arrived; it was not sent again. The next reminder carries a new link."),
    reasons.BOUNCE_REPORTED.code: _l("A bounce was reported for this address."),
    reasons.GAVE_UP.code: _l("The email could not be sent after %(tries)s tries: %(detail)s"),
    reasons.NOT_ADDED.code: _l(
        "iD confirmed; the person did not let the site add the thesis to their record."),
    reasons.WITHDRAWN.code: _l(
        "iD confirmed; the person has since withdrawn the site's permission."),
    reasons.EXPIRED.code: _l("No answer: the last link expired on %(date)s."),
    reasons.CANCELLED.code: _l("The invitation was cancelled."),
    reasons.NOT_TAKEN.code: _l("ORCID did not take this item (%(item)s): %(detail)s"),
}
#: an upload is a list of people, not a data dump
MAX_UPLOAD = 10 * 1024 * 1024


def reason_html(text: str | None) -> Markup:
    """A person's stored reason for the page: ours in the reader's language, with what a mail
    server or ORCID said (and any reason we do not know) marked English (WCAG 3.1.2)."""
    if not text:
        return Markup("")
    found = reasons.recognize(text)
    if found is None:
        return _english(text)
    reason, values = found
    shown: dict[str, Any] = dict(values)
    if "detail" in shown:
        shown["detail"] = _english(shown["detail"])
    if "item" in shown:
        shown["item"] = str(KIND_LABELS.get(shown["item"], shown["item"]))
    # the label is our text: escaped as text, then filled in with its values (escaped by %)
    return Markup(escape(str(REASON_LABELS[reason.code]))) % shown


def _english(text: str) -> Markup:
    return Markup('<span lang="en">{}</span>').format(text)


def _ext() -> Any:
    return get_state().extension


def _require_admin() -> None:
    if not _ext().is_admin():
        abort(403)


def _campaign(campaign_id: int) -> Any:
    _require_admin()
    campaign = _ext().get_campaign(campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def progress_of(campaign: Any) -> dict[str, Any]:
    """Counts, how many were emailed at least once (the bar), and whether a step runs here."""
    counts = _ext().campaign_counts(campaign.id)
    total = sum(counts.values())
    waiting = counts[cp.QUEUED] + counts[cp.SENDING]
    return {"counts": counts, "total": total, "processed": total - waiting,
            "percent": round(100 * (total - waiting) / total) if total else 100,
            "running": thread_running(current_app._get_current_object()),  # type: ignore[attr-defined]
            "finished": campaign.finished_at is not None, "status": campaign.status}


@bp.get("/admin/campaigns")
def campaigns() -> Any:
    _require_admin()
    ext = _ext()
    rows = [(c, progress_of(c)) for c in ext.campaigns()]
    return render_template("orcid/campaigns.html", rows=rows,
                           host_graduates=ext._graduates_source is not None,
                           status_labels=STATUS_LABELS)


@bp.post("/admin/campaigns")
def create() -> Any:
    """A new campaign from the uploaded CSV, or from the site's graduates."""
    check_csrf()
    _require_admin()
    ext = _ext()
    name = (request.form.get("name") or "").strip() or _("Backfill campaign")
    from_host = request.form.get("source") == "host"
    upload = request.files.get("file")
    text = None
    if not from_host:
        data = upload.read(MAX_UPLOAD + 1) if upload is not None else b""
        if not data or len(data) > MAX_UPLOAD:
            flash(_("Choose a CSV file (at most 10 MB) with the columns described below."),
                  "orcid")
            return redirect(url_for(".campaigns"))
        text = data.decode("utf-8-sig", errors="replace")
    user = ext.current_user()
    try:
        campaign = ext.create_campaign(
            name=name, csv_text=text, from_host=from_host, lang=request.form.get("lang", "en"),
            created_by=user.key if user is not None else None,
            sender_name=(request.form.get("sender") or "").strip() or None)
    except ConfigurationError as exc:
        flash(str(exc), "orcid")
        return redirect(url_for(".campaigns"))
    total = sum(ext.campaign_counts(campaign.id).values())
    refused = len(cp.problems_of(campaign))
    flash(ngettext("%(num)d person queued.", "%(num)d people queued.", total) + " " +
          ngettext("%(num)d row refused (see below).", "%(num)d rows refused (see below).",
                   refused), "orcid")
    return redirect(url_for(".campaign", campaign_id=campaign.id))


def _filters() -> tuple[str | None, str | None]:
    status = request.args.get("status") or None
    text = (request.args.get("q") or "").strip()[:100] or None
    return (status if status in cp.STATUSES else None), text


@bp.get("/admin/campaigns/<int:campaign_id>")
def campaign(campaign_id: int) -> Any:
    row = _campaign(campaign_id)
    status, text = _filters()
    people = _ext().campaign_people(campaign_id, status=status, text=text)
    return render_template("orcid/campaign.html", campaign=row, progress=progress_of(row),
                           people=people[:1000], shown=len(people), status=status, q=text,
                           problems=cp.problems_of(row), status_labels=STATUS_LABELS,
                           reason_html=reason_html)


@bp.get("/admin/campaigns/<int:campaign_id>/progress.json")
def progress(campaign_id: int) -> Any:
    return jsonify(progress_of(_campaign(campaign_id)))


@bp.get("/admin/campaigns/<int:campaign_id>/export.csv")
def export(campaign_id: int) -> Response:
    _campaign(campaign_id)
    status, text = _filters()
    body = status_csv(_ext().campaign_people(campaign_id, status=status, text=text))
    name = f"campaign-{campaign_id}" + (f"-{status}" if status else "") + ".csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/admin/campaigns/<int:campaign_id>/run")
def run(campaign_id: int) -> Any:
    check_csrf()
    _campaign(campaign_id)
    if start_thread(current_app._get_current_object(), campaign_id):  # type: ignore[attr-defined]
        flash(_("Sending started. The counts below update as it goes."), "orcid")
    else:
        flash(_("Sending is already running."), "orcid")
    return redirect(url_for(".campaign", campaign_id=campaign_id))


@bp.post("/admin/campaigns/<int:campaign_id>/state")
def set_state(campaign_id: int) -> Any:
    check_csrf()
    row = _campaign(campaign_id)
    wanted = request.form.get("status")
    if wanted not in (cp.ACTIVE, cp.PAUSED):
        abort(400)
    row.status = wanted
    _ext().db.session.commit()
    flash(_("The campaign is paused: nothing more is sent until you resume it.")
          if wanted == cp.PAUSED else _("The campaign is active again."), "orcid")
    return redirect(url_for(".campaign", campaign_id=campaign_id))


@bp.post("/admin/campaigns/<int:campaign_id>/bounces")
def bounces(campaign_id: int) -> Any:
    """Bounces reported after sending (addresses pasted from the mailer-daemon messages)."""
    check_csrf()
    _campaign(campaign_id)
    emails = [e for e in re.split(r"[\s,;]+", request.form.get("emails", "")) if "@" in e]
    rows = _ext().record_bounces(emails)
    flash(ngettext("%(num)d person marked as bounced.", "%(num)d people marked as bounced.",
                   len(rows)), "orcid")
    return redirect(url_for(".campaign", campaign_id=campaign_id, status=cp.BOUNCED))

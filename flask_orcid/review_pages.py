"""The researcher's review of what this site will write to their ORCID record, before anything
is sent: a preview of each item as ORCID will show it, and approve / decline buttons.

A blueprint of its own (``orcid_review``) under ``ORCID_URL_PREFIX``. Hosts can show the same
list on their own pages: the Jinja global ``orcid_review_items(user_key)`` gives what
``orcid/review_list.html`` needs (the sample repository includes it on the student's page).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from .i18n import gettext as _
from .page_errors import signed_in_user
from .pages import KIND_LABELS
from .preview import preview_of
from .safety import check_csrf, private_page_headers, safe_next
from .state import get_state
from .sync.approval import Decision
from .sync.states import AWAITING, DECLINED

__all__ = ["bp", "review_entries"]

bp = Blueprint("orcid_review", __name__, template_folder="templates")
bp.after_request(private_page_headers)


def _ext() -> Any:
    return get_state().extension


def _user_key_or_fail() -> str:
    return str(signed_in_user(
        _("Sign in to this site to review what it will write to your ORCID record.")).key)


def review_entries(user_key: str) -> dict[str, Any]:
    """What ``orcid/review_list.html`` shows for ``user_key``: the items waiting for their
    approval, those they declined, and (when approval is optional) those on their way, which
    they may still decline. Each entry: ``row``, ``preview``, ``kind`` (its label)."""
    ext = _ext()
    groups: dict[str, list[dict[str, Any]]] = {"awaiting": [], "declined": [], "on_the_way": []}
    for row in ext.undelivered_items(user_key):
        group = ("awaiting" if row.state == AWAITING else
                 "declined" if row.state == DECLINED else "on_the_way")
        try:
            preview = preview_of(row)
        except (ValueError, TypeError, KeyError):  # a payload this version cannot read
            continue
        groups[group].append({"row": row, "preview": preview,
                              "kind": KIND_LABELS.get(row.kind, row.kind)})
    return {**groups, "required": ext.approval_required,
            "connected": ext.get_account(user_key) is not None,
            "count": sum(len(v) for v in groups.values())}


@bp.get("/review")
def review() -> Any:
    """Every item not yet on the researcher's record that they may still decide on."""
    user_key = _user_key_or_fail()
    return render_template("orcid/review.html", review=review_entries(user_key))


def _message(decision: str, answer: Decision, connected: bool) -> str:
    """What the researcher reads after approving or declining."""
    if answer in (Decision.DONE, Decision.UNCHANGED) and decision == "approve":
        if connected:
            return _("Approved. It will be sent to your ORCID record shortly.")
        return _("Approved. It will be sent to your ORCID record once you connect your "
                 "ORCID iD.")
    if answer in (Decision.DONE, Decision.UNCHANGED):
        return _("Declined. It will not be sent to your ORCID record unless you approve it "
                 "here later.")
    if answer is Decision.BEING_SENT:
        return _("This item is being sent to ORCID right now. Once it is on your record, you "
                 "can delete it there.")
    return _("This item is already on your ORCID record. To take it off, delete it in your "
             "ORCID record: this site will not add it again.")


@bp.post("/review/decide")
def decide() -> Any:
    """Approve or decline one item (CSRF-checked POST; back to the page the form was on)."""
    check_csrf()
    user_key = _user_key_or_fail()
    decision = request.form.get("decision", "")
    kind, key = request.form.get("kind", ""), request.form.get("key", "")
    if decision not in ("approve", "decline") or not kind or not key:
        abort(400)
    ext = _ext()
    act = ext.approve if decision == "approve" else ext.decline
    answer = act(user_key, kind, key)
    if answer is Decision.NOT_FOUND:
        abort(404)
    ext.db.session.commit()
    flash(_message(decision, answer, ext.get_account(user_key) is not None), "orcid")
    return redirect(safe_next(request.form.get("next")) or url_for("orcid_review.review"))

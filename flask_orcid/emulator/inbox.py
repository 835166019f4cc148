"""The researcher's ORCID inbox on the emulator's console, and ``/_emulator/notifications``.

As on orcid.org (``ORCID-Source: orcid-web/src/main/java/org/orcid/frontend/web/controllers/
NotificationController.java``): the inbox lists notifications without the archived ones unless
asked (``:82-93``); a permission notification shows its own subject, else ORCID's default
(``:114-123``); reading and archiving are the researcher's (``:148-162``); following the
request's button records it as actioned and read, then goes to the authorization URL
(``:164-168``). ORCID takes that URL from a ``target`` parameter; the emulator uses the one
stored with the notification, so the console is no open redirect.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request

from .authorize import signed_in
from .control import same_origin_only
from .inbox_model import Notification
from .notifications import notifications_json
from .render_common import iso
from .runtime import check_csrf, state

bp = Blueprint("inbox", __name__)
bp.before_request(same_origin_only)


def _mine(put_code: int) -> Notification:
    researcher = signed_in()
    found = state().notifications.get(put_code)
    if researcher is None or found is None or found.orcid != researcher.orcid:
        abort(404, description="No such notification in your inbox.")
    return found


@bp.route("/console/inbox", methods=["GET"])
def inbox() -> Any:
    researcher = signed_in()
    if researcher is None:
        return redirect("/signin", code=302)
    archived = request.args.get("archived") == "1"
    st = state()
    with st.lock:
        shown = sorted((n for n in st.notifications.values()
                        if n.orcid == researcher.orcid and (archived or n.archived is None)),
                       key=lambda n: n.put_code, reverse=True)
    return render_template("inbox.html", researcher=researcher, notifications=shown,
                           archived=archived, date=lambda ts: iso(ts)[:10])


@bp.route("/console/inbox/<int:put_code>/action", methods=["GET"])
def action(put_code: int) -> Any:
    st = state()
    with st.lock:
        found = _mine(put_code)
        now = st.now()
        found.actioned = found.actioned or now
        found.read = found.read or now
        st.save()
    return redirect(found.authorization_uri, code=302)


@bp.route("/console/inbox/<int:put_code>/read", methods=["POST"])
def mark_read(put_code: int) -> Any:
    check_csrf(request.form.get("csrf_token"))
    st = state()
    with st.lock:
        found = _mine(put_code)
        found.read = found.read or st.now()
        st.save()
    return redirect("/console/inbox", code=303)


@bp.route("/console/inbox/<int:put_code>/archive", methods=["POST"])
def mark_archived(put_code: int) -> Any:
    check_csrf(request.form.get("csrf_token"))
    st = state()
    with st.lock:
        found = _mine(put_code)
        found.archived = found.archived or st.now()
        st.save()
    return redirect("/console/inbox", code=303)


@bp.route("/_emulator/notifications", methods=["GET"])
def inspect() -> Response:
    """Every permission notification (``?orcid=`` for one record), for tests and the demo."""
    return jsonify(notifications_json(request.args.get("orcid")))

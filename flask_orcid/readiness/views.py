"""The admin page of the integration check (``/orcid/admin/check``): the checklist with
ORCID's sources, a button that runs it against this site, and the answers.

Admins only, through the host's ``@orcid.admin_checker`` (like the delivery admin page).
Running it is a POST with the CSRF token: the check connects and disconnects the host's test
account and writes to the emulator, so a link or a crawler must not start it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request

from ..safety import check_csrf, private_page_headers
from ..state import current_flask_app, get_state
from .model import FAIL, MANUAL, PASS
from .points import POINTS, SOURCES
from .runner import run_check

__all__ = ["bp"]

bp = Blueprint("orcid_check", __name__)
bp.after_request(private_page_headers)


def _require_admin() -> None:
    if not get_state().extension.is_admin():
        abort(403)


@bp.route("/admin/check", methods=["GET", "POST"])
def check_page() -> Any:
    """GET: the checklist; POST: run it and show the answers."""
    _require_admin()
    report = None
    if request.method == "POST":
        check_csrf()
        report = run_check(current_flask_app())
    return render_template(
        "orcid/check.html",
        points=POINTS,
        sources=SOURCES,
        report=report,
        findings={f.point: f for f in report.findings} if report is not None else {},
        statuses={PASS: PASS, FAIL: FAIL, MANUAL: MANUAL},
        environment=get_state().endpoints.environment,
        cli_command=f"flask --app {current_app.import_name} orcid check --evidence DIR",
    )

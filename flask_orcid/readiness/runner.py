"""Running the whole checklist against the running site, in the order a researcher meets it.

The check changes a few things, all its own: it connects the host's test account to a fresh
test researcher of the emulator, adds and removes a test work on that record, and
disconnects again. Nothing of a real person's is touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import requests
from flask import Flask

from ..i18n import gettext as _
from ..state import get_state
from .context import CheckRun, Urls
from .exports import judge_exports
from .flow import connect, deny, disconnect, fresh_account, judge_authorize_request, start_connect
from .items import check_items, remove_test_work
from .model import FAIL, PASS, CheckTargets, Report
from .points import POINTS
from .public import authenticated_ids, judge_benefits, judge_display, judge_support
from .registry import Emulator, RegistryError
from .site import Site, base_url_for

__all__ = ["load_targets", "prepare", "run_check"]

log = logging.getLogger(__name__)


def _merge_config(targets: CheckTargets, urls: Mapping[str, Any]) -> CheckTargets:
    """``ORCID_CHECK_URLS`` wins for the single pages and adds to the lists."""
    def as_list(value: Any) -> list[str]:
        return [value] if isinstance(value, str) else [str(v) for v in value or ()]

    targets.connect_page = urls.get("connect") or targets.connect_page
    targets.form_page = urls.get("form") or targets.form_page
    targets.public_pages = list(dict.fromkeys(targets.public_pages + as_list(urls.get("public"))))
    targets.exports = list(dict.fromkeys(targets.exports + as_list(urls.get("exports"))))
    return targets


def load_targets(app: Flask) -> CheckTargets:
    """The host's answer (``@orcid.check_targets``) merged with ``ORCID_CHECK_URLS``; call it
    inside a request context of the site so the host can use ``url_for``."""
    hook = get_state(app).extension._check_targets
    targets = hook() if hook is not None else CheckTargets()
    return _merge_config(targets, app.config.get("ORCID_CHECK_URLS") or {})


def prepare(app: Flask, base_url: str | None = None) -> CheckRun:
    """A run, ready to start: the site at its public address, the host's targets."""
    base = base_url_for(app, base_url)
    with app.test_request_context("/", base_url=base):
        urls = Urls.build()
        targets = load_targets(app)
    endpoints = get_state(app).endpoints
    emulator = Emulator(endpoints) if endpoints.environment == "emulator" else None
    report = Report(site=base, environment=endpoints.environment)
    session = get_state(app).extension.db.session
    site = Site(app, base, targets, idle=session.rollback)
    return CheckRun(app, site, targets, urls, emulator, report)


def _signed_in(run: CheckRun) -> bool:
    if run.targets.user_key and run.site.sign_in():
        return True
    reason = _("The host gave the check no test account: register @orcid.check_targets "
               "returning CheckTargets(user_key=..., sign_in=...).")
    for point in ("benefit-text", "redirect-https", "minimal-scopes", "deny-path",
                  "state-single-use", "tokens-encrypted", "token-reuse", "prefill",
                  "put-code-updates", "disconnect-revokes"):
        run.add(point, FAIL, reason)
    return False


def _researcher_journey(run: CheckRun) -> None:
    if fresh_account(run) is not None:  # left over from an interrupted run
        run.ext.disconnect(run.targets.user_key)
    if run.emulator is not None:
        run.emulator.new_researcher()
    judge_benefits(run)
    judge_authorize_request(run, start_connect(run))
    with requests.Session() as browser:
        deny(run, browser)
        connected = connect(run, browser)
    if run.pages.get("state"):
        run.add("state-single-use", PASS, run.pages["state"])
    if connected or run.emulator is None:
        check_items(run)


def _visitor_pages(run: CheckRun) -> None:
    visitor = run.site.fresh()
    pages = [visitor.get(url) for url in run.targets.public_pages
             if visitor.path_of(url) is not None]
    judge_display(run, pages)
    run.site, site = visitor, run.site
    try:
        judge_exports(run, pages, authenticated_ids(run))
    finally:
        run.site = site


def run_checklist(run: CheckRun) -> Report:
    """Every point, in checklist order; the test account ends disconnected."""
    try:
        if _signed_in(run):
            _researcher_journey(run)
        _visitor_pages(run)
        judge_support(run)
        disconnect(run)
    except RegistryError as exc:
        run.report.notes.append(str(exc))
        log.warning("the integration check stopped: %s", exc)
    finally:
        cleanup(run)
    for p in POINTS:
        run.add(p.id, FAIL, _("Not reached: an earlier step of the check failed (see the "
                              "other points and the notes)."))
    run.ordered()
    return run.report


def cleanup(run: CheckRun) -> None:
    """Whatever happened, the test work leaves the record and the test account is
    disconnected (its token revoked at ORCID)."""
    if not run.targets.user_key:
        return
    try:
        if fresh_account(run) is not None:
            remove_test_work(run)
            run.ext.disconnect(run.targets.user_key)
    except Exception:  # noqa: BLE001 - the report matters more than a failed clean-up
        run.ext.db.session.rollback()
        log.exception("the integration check could not clean up after itself")
    run.token = None


def run_check(app: Flask, base_url: str | None = None,
              then: Callable[[CheckRun], None] | None = None) -> Report:
    """Run the checklist against ``app``; ``then(run)`` runs afterwards, while the run's
    emulator session is still open (the evidence pack)."""
    run = prepare(app, base_url)
    try:
        run_checklist(run)
        if then is not None:
            then(run)
    finally:
        if run.emulator is not None:
            run.emulator.close()
    return run.report

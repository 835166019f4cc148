"""The evidence pack's screenshots: a real browser (Playwright driving Chromium) walks the
researcher's steps on the site and on the emulator, as ORCID's reviewers ask to see them:
the connect page, ORCID's consent screen, the denial page, the prefilled form, the item on
the record, the iD on a public page, and the disconnect.

The browser is optional (``pip install playwright`` and a Chromium binary, ``$CHROMIUM`` or
``chromium`` on the PATH); without it :func:`browser_problem` says what is missing and the
checklist runs alone. The walk needs ORCID's screens, so it runs against the emulator only.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from ..i18n import gettext as _
from .context import CheckRun
from .flow import fresh_account
from .items import publish_test_work, remove_test_work
from .model import Evidence
from .site import Site

try:  # the browser is an option of the check, not a dependency of the extension
    from playwright import sync_api as playwright_api
except ImportError:  # pragma: no cover - only without playwright
    playwright_api = None  # type: ignore[assignment]

__all__ = ["browser_problem", "chromium_path", "collect_evidence", "serve"]

#: Chromium's flags for a headless run in a container (the browser tests use the same).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    """``$CHROMIUM`` if set, else ``chromium`` on the PATH, else Debian's /usr/bin/chromium."""
    candidate = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return candidate if os.access(candidate, os.X_OK) else None


def browser_problem(run: CheckRun) -> str | None:
    """Why no evidence pack can be made here, or None."""
    if playwright_api is None:
        return _("The evidence pack needs the Python package playwright (pip install "
                 "playwright).")
    if chromium_path() is None:
        return _("The evidence pack needs Chromium: install it (apt-get install chromium) or "
                 "set CHROMIUM to its path.")
    if run.emulator is None:
        return _("The evidence pack is made against the emulator, where the check can answer "
                 "ORCID's screens; against the sandbox, record the same steps yourself.")
    if run.targets.sign_in is None or not run.targets.user_key:
        return _("The evidence pack needs the host's test account (@orcid.check_targets).")
    return None


@contextmanager
def serve(app: Flask, base_url: str | None) -> Iterator[str]:
    """The site over HTTP for the browser: ``base_url`` when the site already runs there,
    else this app on a free loopback port for as long as the walk lasts."""
    if base_url:
        yield base_url.rstrip("/")
        return
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="orcid-check-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Walk:
    """One browser walk; every step adds a screenshot."""

    def __init__(self, run: CheckRun, page: Any, live: str) -> None:
        self.run, self.page, self.live = run, page, live
        self.shots: list[Evidence] = []

    def shot(self, step: str, title: str, caption: str) -> None:
        self.page.wait_for_load_state()
        self.shots.append(Evidence(step, title, caption, self.page.screenshot(full_page=True),
                                   self.page.url))

    def site(self, url: str) -> str:
        return self.live + (Site(self.run.app, self.live, self.run.targets).path_of(url) or url)

    def to_consent(self) -> None:
        """From the connect link: ORCID's sign-in (first time), then its consent screen."""
        researcher = self.run.emulator.researcher if self.run.emulator else {}
        if self.page.locator("#signin-form").count():
            self.page.fill("#username", str(researcher.get("email", "")))
            self.page.fill("#password", str(researcher.get("password", "")))
            self.page.click("#signin-form button[type=submit]")
        self.page.wait_for_selector("#consent-form")

    def connect_and_deny(self) -> None:
        urls, targets = self.run.urls, self.run.targets
        self.page.goto(self.site(targets.connect_page or urls.connection))
        self.shot("connect", _("The connect page"), _(
            "What the researcher reads before connecting: what ORCID is, why the site asks, "
            "what it will be allowed to do, and the ORCID-branded button."))
        self.page.click(f"a[href*='{urls.connect}']")
        self.to_consent()
        self.shot("consent", _("ORCID's consent screen (emulator)"), _(
            "The permissions the site asks for, as ORCID shows them, with Authorize and Deny."))
        self.page.click("#consent-form button[value=deny]")
        self.shot("denied", _("After a denial"), _(
            "The researcher pressed Deny: the site explains ORCID again, offers to try again or "
            "to carry on without ORCID, and gives its support contact."))

    def authorize(self) -> None:
        self.page.click("a.orcid-retry")
        self.to_consent()
        self.page.click("#consent-form button[value=authorize]")
        self.page.wait_for_load_state()
        form = bool(self.run.targets.form_page)
        self.shot("form" if form else "connected",
                  _("The prefilled form") if form else _("The connection page"), _(
                      "Back from ORCID after Authorize: the site's form, filled in from the "
                      "ORCID record.") if form else _("Back from ORCID after Authorize."))

    def record_and_public_page(self) -> None:
        run = self.run
        account = fresh_account(run)
        run.orcid = account.orcid if account is not None else None
        publish_test_work(run, "ORCID integration check: test work")
        assert run.emulator is not None
        self.page.goto(f"{run.emulator.url}/console")
        self.shot("record", _("The item on the ORCID record (emulator console)"), _(
            "The test work the site delivered, on the researcher's record with the site as "
            "its source."))
        remove_test_work(run)
        if run.targets.public_pages:
            self.page.goto(self.site(run.targets.public_pages[0]))
            self.shot("public-id", _("The iD on a public page"), _(
                "An authenticated iD with the iD icon and its full URI; typed-in iDs without "
                "the icon."))

    def disconnect(self) -> None:
        self.page.goto(self.site(self.run.urls.confirm_disconnect))
        self.page.click("#confirm-disconnect")
        self.shot("disconnect", _("After disconnecting"), _(
            "The site revoked its token at ORCID and deleted the connection; it says what it "
            "removed and what stays on the record."))


def collect_evidence(run: CheckRun, base_url: str | None = None) -> list[Evidence]:
    """Walk the steps in a browser; the screenshots, in order (also added to the report)."""
    assert playwright_api is not None
    with serve(run.app, base_url) as live:
        site = Site(run.app, live, run.targets, run.site.idle)
        site.sign_in()
        cookie = site.session_cookie()
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(),
                                                 args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1200, "height": 900})
                context.set_default_timeout(20_000)
                if cookie is not None:
                    context.add_cookies([{"name": cookie[0], "value": cookie[1],
                                          "url": live + "/"}])
                walk = _Walk(run, context.new_page(), live)
                _steps(walk)
            finally:
                browser.close()
    run.report.evidence.extend(walk.shots)
    return walk.shots


def _steps(walk: _Walk) -> None:
    try:
        walk.connect_and_deny()
        walk.authorize()
        walk.record_and_public_page()
        walk.disconnect()
    except playwright_api.Error as exc:
        walk.run.report.notes.append(_("The browser walk stopped: %(error)s",
                                       error=str(exc).splitlines()[0]))
    finally:
        if fresh_account(walk.run) is not None:
            remove_test_work(walk.run)
            walk.run.ext.disconnect(walk.run.targets.user_key)


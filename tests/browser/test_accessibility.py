"""Every page of the repository, the extension and the emulator, in English and Spanish: no
serious or critical axe-core violation (nor the moderate ones the demo walk found), nothing
wider than a 375 px screen, and focus on the message after coming back from ORCID (issue 14,
items 11 and 12). Screenshots at both widths go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import threading

import pytest
from flask import session
from werkzeug.serving import make_server

from tests.browser.conftest import admin_page, wait_until
from tests.browser.test_repository_browser import (
    decide_on_dashboard,
    fill_thesis,
    register,
    sign_in_at_emulator,
)
from tests.outbox_support import degree, item_suffix, thesis
from tests.plugins.app import db, orcid

# without axe-playwright-python (the test extra) these are skipped, like the other browser tests
pytest.importorskip("axe_playwright_python", reason="pip install axe-playwright-python")

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from tests.browser.audit import PageAudit  # noqa: E402 - needs the package checked above

PEOPLE = {
    "en": ("Josiah", "Carberry", "josiah@example.edu", "carberry-1", "0000-0002-1825-0097"),
    "es": ("María José", "García Núñez", "maria@example.edu", "garcia-1", "0000-0003-4567-890X"),
}


def _emulator_pages(page, emulator, audit: PageAudit, lang: str) -> None:
    for name, path in (("emulator-home", "/"), ("emulator-signin", "/signin"),
                       ("emulator-register", "/register")):
        page.goto(f"{emulator.url}{path}?lang={lang}")
        audit.check(page, name)


def _visitor_pages(page, base: str, audit: PageAudit) -> None:
    for name, path in (("home", "/"), ("browse", "/theses"), ("login", "/account/login"),
                       ("register", "/account/register"), ("not-found", "/theses/99999"),
                       ("orcid-step-anonymous", "/submit")):
        page.goto(f"{base}{path}")
        audit.check(page, name)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_page_is_accessible_and_fits_a_phone(lang, live_repo, emulator, new_page):
    base = live_repo.url
    given, family, email, orcid_password, orcid_id = PEOPLE[lang]
    audit = PageAudit(label=lang)
    page = new_page(locale="es-ES" if lang == "es" else "en-US")
    page.goto(f"{base}/lang/{lang}")
    _visitor_pages(page, base, audit)
    _emulator_pages(page, emulator, audit, lang)

    register(page, base, given, family, email, f"{lang}-student-pass")
    page.wait_for_url(f"{base}/submit")
    audit.check(page, "orcid-step")
    page.goto(f"{base}/orcid/")
    audit.check(page, "orcid-connection-none")
    page.goto(f"{base}/my")
    audit.check(page, "dashboard-empty")

    # ORCID's screens: sign in, then deny once (the denial page), then authorize
    page.goto(f"{base}/submit")
    page.click("a.orcid-connect-button")
    page.wait_for_url(f"{emulator.url}/**")
    audit.check(page, "emulator-signin-from-site")
    sign_in_at_emulator(page, emulator, orcid_password)
    audit.check(page, "emulator-consent")
    page.click("#consent-form button[value=deny]")
    page.wait_for_url(f"{base}/orcid/callback**")
    audit.check(page, "orcid-denied")
    page.click("a.orcid-retry")
    page.wait_for_selector("#consent-form")
    page.click("#consent-form button[value=authorize]")
    page.wait_for_url(f"{base}/submit/form")
    # back from ORCID: the message that says what happened has the focus (autofocus is applied
    # once the page has loaded: wait for the load, then give the browser a moment to move it)
    page.wait_for_load_state("load")
    try:
        page.wait_for_function("document.activeElement && document.activeElement.id", timeout=3000)
    except PlaywrightTimeout:
        pass  # the assertion below says what had the focus
    focused = page.evaluate("document.activeElement && document.activeElement.id")
    focused_text = page.evaluate("document.activeElement && document.activeElement.innerText")
    audit.check(page, "thesis-form-prefilled")

    # nothing typed: every missing field is reported at once
    page.click("#submit")
    audit.check(page, "thesis-form-errors")
    fill_thesis(page, f"Accessible thesis {lang}")
    if lang == "es":  # nothing at this school on María's record: she types these herself
        assert page.input_value("#department") == "" and page.input_value("#program_start") == ""
        page.fill("#department", "Geografía")
        page.fill("#program_start", "2020-09")
    page.click("#submit")
    page.wait_for_url(f"{base}/my")
    audit.check(page, "dashboard")
    page.locator("main tr", has_text=f"Accessible thesis {lang}").locator("a").first.click()
    audit.check(page, "thesis-view")
    page.goto(f"{base}/orcid/")
    audit.check(page, "orcid-connection")
    page.goto(f"{base}/orcid/items")
    audit.check(page, "orcid-items")
    page.goto(f"{emulator.url}/console?lang={lang}")
    audit.check(page, "emulator-console")

    admin = admin_page(new_page, base, lang)
    audit.check(admin, "admin-queue")
    admin.locator("main tr", has_text=f"Accessible thesis {lang}").locator("a").first.click()
    audit.check(admin, "admin-review")
    admin.click("#review-accept")
    admin.wait_for_selector("#doi")
    audit.check(admin, "admin-published")
    landing = admin.url.replace("/admin/theses/", "/theses/")
    # the student's approval step (ORCID_APPROVAL = "required" in the sample): the review on
    # their page and the extension's own review page, then both items approved
    page.goto(f"{base}/my")
    audit.check(page, "dashboard-approval")
    page.goto(f"{base}/orcid/review")
    audit.check(page, "orcid-review")
    decide_on_dashboard(page, base, {"work": "approve", "education": "approve"})

    def delivered():
        record = emulator.record(orcid_id)
        return [w for w in record["works"] if w["source_client_id"] == emulator.client_id]

    wait_until(delivered, what="the thesis on the ORCID record")

    def degree():
        record = emulator.record(orcid_id)
        return [e for e in record["educations"] if e["source_client_id"] == emulator.client_id]

    [education] = wait_until(degree, what="the degree on the ORCID record")
    # only what was typed or came from this school's own affiliation reached ORCID
    assert education["department"] == ("Psychoceramics" if lang == "en" else "Geografía")
    assert education["organization"]["disambiguated_id"] == "https://ror.org/05gq02987"
    admin.goto(f"{base}/orcid/admin")
    audit.check(admin, "orcid-admin")

    page.goto(landing)
    audit.check(page, "landing")
    page.goto(f"{base}/theses")
    audit.check(page, "browse-with-thesis")
    page.goto(f"{base}/orcid/")
    page.click("a.orcid-disconnect-link")
    audit.check(page, "orcid-disconnect-confirm")
    page.click("#confirm-disconnect")
    page.wait_for_load_state()
    audit.check(page, "orcid-disconnected")
    # disconnecting leaves the items on the record (they are the researcher's now)
    [work_before], [degree_before] = delivered(), degree()
    # connecting again adopts both items: the record keeps one of each (issue 14, item 2)
    page.goto(f"{base}/orcid/")
    page.click("a.orcid-connect-button")
    page.wait_for_selector("#consent-form")  # still signed in at ORCID
    page.click("#consent-form button[value=authorize]")
    page.wait_for_url(f"{base}/**")
    audit.check(page, "orcid-reconnected")

    def adopted() -> bool:  # the next pass reads the record, adopts both items and PUTs them
        paths = {e["path"] for e in emulator.requests()["log"] if e["method"] == "PUT"}
        return (any(p.endswith(item_suffix("work", work_before["put_code"])) for p in paths)
                and any(p.endswith(item_suffix("education", degree_before["put_code"]))
                        for p in paths))

    wait_until(adopted, what="the thesis and degree adopted after reconnecting")
    assert [w["put_code"] for w in delivered()] == [work_before["put_code"]]
    assert [e["put_code"] for e in degree()] == [degree_before["put_code"]]
    page.goto(f"{base}/orcid/callback?state=forged&code=nothing")
    audit.check(page, "orcid-error")
    assert re.search(r"\d", " ".join(audit.pages))
    audit.assert_clean()
    assert focused == "messages", f"focus after ORCID: {focused!r}"
    assert ("connected" if lang == "en" else "conectado") in focused_text, focused_text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_extensions_own_pages_outside_any_site_layout(lang, make_app, make_user, emulator,
                                                          new_page):
    """flask-orcid's pages with its own minimal layout (a host that does not restyle them)."""
    app = make_app(TESTING=False, ORCID_REACHABILITY_SECONDS=60, ORCID_APPROVAL="required")
    _given, _family, email, orcid_password, _orcid_id = PEOPLE[lang]
    user = make_user(app, email=email, locale=lang)

    @app.get("/test-login")
    def test_login() -> str:
        session["user_id"] = user.id
        return "logged in"

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    audit = PageAudit(label=f"extension-{lang}")
    try:
        page = new_page(locale="es-ES" if lang == "es" else "en-US")
        page.goto(f"{base}/test-login")
        page.goto(f"{base}/orcid/")
        audit.check(page, "connection-none")
        page.goto(f"{base}/orcid/connect?next=/orcid/")
        sign_in_at_emulator(page, emulator, orcid_password)
        page.click("#consent-form button[value=deny]")
        page.wait_for_url(f"{base}/orcid/callback**")
        audit.check(page, "denied")
        page.goto(f"{base}/orcid/connect?next=/orcid/")
        page.wait_for_selector("#consent-form")
        page.click("#consent-form button[value=authorize]")
        page.wait_for_url(f"{base}/orcid/")
        audit.check(page, "connection")
        with app.app_context():  # the site publishes; the researcher reviews it first
            orcid.publish(str(user.id), "thesis:1", thesis(1))
            orcid.publish(str(user.id), "degree:1", degree(1))
            db.session.commit()
        page.goto(f"{base}/orcid/items")
        audit.check(page, "items")
        page.goto(f"{base}/orcid/review")
        audit.check(page, "review")
        # every blueprint's page says which language its text is in (not only /orcid/'s)
        assert page.locator("html").get_attribute("lang") == lang
        page.goto(f"{base}/orcid/disconnect/confirm")
        audit.check(page, "disconnect-confirm")
        page.click("#confirm-disconnect")
        page.wait_for_load_state()
        audit.check(page, "disconnected")
        page.goto(f"{base}/orcid/callback?state=forged&code=nothing")
        audit.check(page, "error")
        audit.assert_clean()
    finally:
        server.shutdown()
        server.server_close()

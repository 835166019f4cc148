"""The institution's pages of issue 16 in a real browser, in English and Spanish, each through
axe-core and the 375 px check (:class:`~tests.browser.audit.PageAudit`):

- a backfill campaign: the admin uploads a CSV with a bad line, starts sending from the
  keyboard, watches the counts and the bar move to done while a real SMTP server (in this
  process) takes the emails, filters by status and downloads the CSV export;
- the people page: the sample's students with their connection state, and the record holders
  ORCID's search finds at the institution who have not connected (one invited by email);
- the trust markers from ORCID's record summary on the admin's review page;
- the researcher's ORCID inbox on the emulator, with a permission request that leads back to a
  connection on the site.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import threading
from typing import Any

import pytest
from flask import session
from werkzeug.serving import make_server

from example_repository.db import db
from example_repository.models import User
from example_repository.orcid_setup import orcid
from flask_orcid import InstitutionPerson
from flask_orcid.emulator.seed import FERNANDEZ, OKAFOR
from flask_orcid.protocol.notifications import NotificationItem
from tests.browser.conftest import admin_page
from tests.browser.test_repository_browser import fill_thesis, register, sign_in_at_emulator
from tests.campaign_support import INSTITUTION, CampaignSMTP, _Handler, graduate, graduates_csv
from tests.plugins.app import orcid as host_orcid
from tests.plugins.mail import link_in

pytest.importorskip("axe_playwright_python", reason="pip install axe-playwright-python")

from tests.browser.audit import PageAudit  # noqa: E402 - needs the package checked above

#: per language: the student who connects (a seeded researcher), words the pages must show
CASES = {
    "en": {"student": ("Josiah", "Carberry", "josiah@example.edu", "carberry-1",
                       "0000-0002-1825-0097"),
           "holder": (OKAFOR, "ada.okafor@example.edu"),
           "queued": "4 people queued. 1 row refused (see below).",
           "line": "Line 5: date",
           "connected": "Connected", "not_connected": "Not connected",
           "campaigns": "Campaigns", "people": "People and ORCID",
           "subject": "Add your thesis to your ORCID record",
           "trust": "Trust markers from ORCID", "validated": "1 validated, 1 self-asserted",
           "unread": "(Unread)", "archived": "(Archived)",
           "inbox_done": "Your ORCID iD is connected"},
    "es": {"student": ("María José", "García Núñez", "maria@example.edu", "garcia-1",
                       "0000-0003-4567-890X"),
           "holder": (FERNANDEZ, "lucia.fo@gmail.com"),
           "queued": "4 personas en cola. 1 fila rechazada (véase abajo).",
           "line": "Línea 5: date",
           "connected": "Conectado/a", "not_connected": "No conectado/a",
           "campaigns": "Campañas", "people": "Personas y ORCID",
           "subject": "Añada su tesis a su registro ORCID",
           "trust": "Marcas de confianza de ORCID",
           # her seeded works: one by Crossref (public), one by DataCite (limited: not counted)
           "validated": "1 validadas, 0 autodeclaradas",
           "unread": "(No leída)", "archived": "(Archivada)",
           "inbox_done": "Su iD de ORCID está conectado"},
}


class _HeldUntilOpened(_Handler):
    """Holds every message after DATA until the test opens the gate, then takes it: the
    sending thread is busy (and the page shows it running) for as long as the test wants."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        while not self.server.gate.is_set():
            await asyncio.sleep(0.02)
        return str(await super().handle_DATA(server, session, envelope))


class GatedSMTP(CampaignSMTP):
    def __init__(self) -> None:
        self.gate = threading.Event()
        super().__init__(_HeldUntilOpened)


@pytest.fixture
def gated_smtp():
    server = GatedSMTP()
    server.start()
    yield server
    server.gate.set()
    server.stop()


def _download(page, selector: str) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.click(selector)
    path = info.value.path()
    with open(path, encoding="utf-8-sig") as handle:
        return list(csv.DictReader(io.StringIO(handle.read())))


def _progress(page) -> tuple[int, int]:
    return (int(page.eval_on_selector("#orcid-progress-bar", "b => b.value")),
            int(page.eval_on_selector("#orcid-progress-bar", "b => b.max")))


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_backfill_campaign_on_its_pages(lang, live_repo, gated_smtp, new_page):
    base = live_repo.url
    case = CASES[lang]
    live_repo.app.config.update(gated_smtp.config(), ORCID_EXTERNAL_URL=base)
    gated_smtp.refuse = {"grad002@alumni.example.org"}  # a 550 bounce
    audit = PageAudit(label=f"campaign-{lang}")
    admin = admin_page(new_page, base, lang)
    admin.get_by_role("navigation").get_by_role("link", name=case["campaigns"]).click()
    admin.wait_for_url(f"{base}/orcid/admin/campaigns")
    audit.check(admin, "campaigns-empty")

    # four people and a line whose date is not one (the header is line 1)
    rows = [graduate(n) for n in range(1, 5)] + [graduate(5, date="someday")]
    rows.insert(3, rows.pop())  # the bad row is line 5
    admin.fill("#orcid-campaign-name", f"Alumni {lang}")
    admin.set_input_files("#orcid-campaign-file", files=[{
        "name": "alumni.csv", "mimeType": "text/csv", "buffer": graduates_csv(rows).encode()}])
    admin.select_option("#orcid-campaign-lang", lang)
    admin.click(".orcid-campaign-form button[type=submit]")
    admin.wait_for_url(re.compile(r".*/orcid/admin/campaigns/\d+$"))
    assert case["queued"] in admin.locator("main").inner_text()
    [problem] = admin.locator("#orcid-campaign-problems li").all_inner_texts()
    assert problem.startswith(case["line"]), problem
    # the reason is the validator's English, and says so to a screen reader
    assert admin.locator("#orcid-campaign-problems li span[lang=en]").count() == 1
    assert _progress(admin) == (0, 4)
    audit.check(admin, "campaign-queued")

    # "Send now" from the keyboard: Tab from the last count to the button, then Enter
    admin.focus("ul.orcid-campaign-counts li:last-child a")
    admin.keyboard.press("Tab")
    assert admin.evaluate("document.activeElement.id") == "orcid-campaign-send"
    with admin.expect_navigation():
        admin.keyboard.press("Enter")
    # the first email is held at the SMTP server: the page is served while sending runs
    assert admin.get_attribute("#orcid-campaign-progress", "data-running") == "1"
    assert _progress(admin) == (0, 4)
    audit.check(admin, "campaign-sending")
    gated_smtp.gate.set()
    # campaign.js polls the counts: the bar reaches the end without a reload
    admin.wait_for_function("() => { const b = document.getElementById('orcid-progress-bar');"
                            " return b.max === 4 && b.value === 4; }", timeout=30_000)
    assert admin.locator("#orcid-progress-text").inner_text().startswith("4 ")
    # and once the thread stops, the line under the bar stops saying "Sending…"
    admin.wait_for_function("() => { const s = document.getElementById('orcid-campaign-state');"
                            " return s.textContent === s.dataset.idle; }", timeout=30_000)
    counts = {s: admin.locator(f"#orcid-campaign-progress strong[data-status={s}]").inner_text()
              for s in ("queued", "invited", "bounced")}
    assert counts == {"queued": "0", "invited": "3", "bounced": "1"}
    messages = gated_smtp.wait(3)
    assert sorted(str(m["To"]) for m in messages) == [
        "grad001@alumni.example.org", "grad003@alumni.example.org", "grad004@alumni.example.org"]
    assert {str(m["Subject"]) for m in messages} == {case["subject"]}
    assert link_in(messages[0], "/orcid/invitations/").startswith(f"{base}/")
    audit.check(admin, "campaign-sent")

    # filter by status, then the export of what is shown
    admin.select_option("#orcid-filter-status", "bounced")
    admin.click(".orcid-filter button[type=submit]")
    admin.wait_for_url(re.compile(r".*status=bounced.*"))
    assert admin.locator("table.orcid-campaign-people tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.email)") == ["grad002@alumni.example.org"]
    audit.check(admin, "campaign-filtered")
    [bounced] = _download(admin, "#orcid-export")
    assert (bounced["email"], bounced["line"], bounced["status"]) == (
        "grad002@alumni.example.org", "3", "bounced")
    assert "550" in bounced["reason"]
    admin.select_option("#orcid-filter-status", "")
    admin.click(".orcid-filter button[type=submit]")
    admin.wait_for_load_state()
    everyone = _download(admin, "#orcid-export")
    assert {(r["line"], r["status"]) for r in everyone} == {
        ("2", "invited"), ("3", "bounced"), ("4", "invited"), ("6", "invited")}

    admin.click("main a[href='/orcid/admin/campaigns']")  # "All campaigns"
    admin.wait_for_url(f"{base}/orcid/admin/campaigns")
    assert admin.locator("table.orcid-campaigns tbody tr").count() == 1
    audit.check(admin, "campaigns-list")
    audit.assert_clean()


def _student_connects_and_deposits(page, base: str, emulator, case: dict, lang: str,
                                   title: str) -> None:
    given, family, email, password, _orcid_id = case["student"]
    page.goto(f"{base}/lang/{lang}")
    register(page, base, given, family, email, f"{lang}-people-pass")
    page.wait_for_url(f"{base}/submit")
    page.click("a.orcid-connect-button")
    sign_in_at_emulator(page, emulator, password)
    page.click("#consent-form button[value=authorize]")
    page.wait_for_url(f"{base}/submit/form")
    fill_thesis(page, title)
    page.fill("#department", "Psychoceramics")
    page.fill("#program_start", "2019-09")
    page.click("#submit")
    page.wait_for_url(f"{base}/my")


def _people_page(admin, base: str, case: dict, smtp_server, audit: PageAudit) -> None:
    """The sample's students with their state; ORCID's search; one record holder invited."""
    _given, family, _email, _password, orcid_id = case["student"]
    holder, holder_email = case["holder"]
    admin.get_by_role("navigation").get_by_role("link", name=case["people"]).click()
    admin.wait_for_url(f"{base}/orcid/admin/people")
    states = dict(admin.locator("table.orcid-people tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].innerText, r.cells[4].innerText])"))
    student = next(name for name in states if family in name)
    assert states[student] == case["connected"]
    assert states["Ada Lovelace"] == case["not_connected"]
    assert admin.locator("table.orcid-holders").count() == 0  # ORCID is asked on request only
    audit.check(admin, "people")

    admin.click("form:has(input[name=search]) button[type=submit]")
    admin.wait_for_url(f"{base}/orcid/admin/people?search=1")
    found = admin.locator("table.orcid-holders tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.orcid)")
    assert holder in found and orcid_id not in found  # the connected student is left out
    audit.check(admin, "people-search")
    row = admin.locator(f"tr[data-orcid='{holder}']")
    row.locator("input[type=email]").fill(holder_email)
    row.locator("select").select_option(case["lang"])
    with admin.expect_navigation():
        row.locator("button[type=submit]").click()
    assert holder_email in admin.locator("main .orcid-flash").inner_text()
    [message] = smtp_server.wait(1)
    assert message["To"] == holder_email and message["Content-Language"] == case["lang"]
    audit.check(admin, "people-invited")


def _inbox_request(page, live_repo, emulator, case: dict, title: str, audit: PageAudit) -> None:
    """The student revoked the site at ORCID; the site asks again through their ORCID inbox;
    they grant it there and come back connected."""
    lang = case["lang"]
    orcid_id = case["student"][4]
    base = live_repo.url
    app = live_repo.app
    assert emulator.user_revoke(orcid_id) >= 1
    page.goto(f"{emulator.url}/console/inbox?lang={lang}")
    audit.check(page, "emulator-inbox-before")
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        user = db.session.scalar(db.select(User).where(User.email == case["student"][2]))
        user_key = user.key
        sent = orcid.request_permission(orcid_id, user_key=user_key, reason="revoked",
                                        items=[NotificationItem("work", title)])
        put_code = sent.put_code
    page.reload()
    notice = page.locator(f"#notification-{put_code}")
    assert title in notice.inner_text() and case["unread"] in notice.inner_text()
    audit.check(page, "emulator-inbox")
    notice.locator("a.grant").click()
    page.wait_for_selector("#consent-form")  # ORCID's consent, for the iD the request names
    page.click("#consent-form button[value=authorize]")
    page.wait_for_url(f"{base}/orcid/inbox/done**")
    assert page.locator("h1").inner_text() == case["inbox_done"]
    audit.check(page, "inbox-connected")
    with app.app_context():
        account = orcid.get_account(user_key)
        assert account is not None and account.status == "active"

    page.goto(f"{emulator.url}/console/inbox?lang={lang}")
    assert case["unread"] not in notice.inner_text()  # following it marked it read
    notice.locator("form[action$='/archive'] button").click()
    page.wait_for_url(f"{emulator.url}/console/inbox")
    assert notice.count() == 0
    page.goto(f"{emulator.url}/console/inbox?archived=1&lang={lang}")
    assert case["archived"] in notice.inner_text()
    audit.check(page, "emulator-inbox-archived")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_people_trust_markers_and_an_orcid_inbox_request(lang, live_repo, emulator, smtp_server,
                                                         new_page):
    base = live_repo.url
    case = dict(CASES[lang], lang=lang)
    live_repo.app.config.update(smtp_server.config(), ORCID_EXTERNAL_URL=base,
                                ORCID_PREMIUM_NOTIFICATIONS=True)
    with live_repo.app.app_context():  # a student who has not connected
        ada = User(email="ada@example.edu", given_names="Ada", family_name="Lovelace")
        ada.set_password("ada-pass-1")
        db.session.add(ada)
        db.session.commit()
    audit = PageAudit(label=f"people-{lang}")
    title = f"Trust and inboxes ({lang})"
    student = new_page(locale="es-ES" if lang == "es" else "en-US")
    _student_connects_and_deposits(student, base, emulator, case, lang, title)

    admin = admin_page(new_page, base, lang)
    _people_page(admin, base, case, smtp_server, audit)

    # the review page: what ORCID's record summary says about the author
    admin.goto(f"{base}/admin/")
    admin.locator("main tr", has_text=title).locator("a").first.click()
    trust = admin.locator("#trust-markers")
    assert trust.get_by_role("heading").inner_text() == case["trust"]
    assert "example.edu" in admin.locator("#trust-domains").inner_text()
    assert admin.locator("#trust-works").inner_text() == case["validated"]
    audit.check(admin, "admin-review-trust")

    _inbox_request(student, live_repo, emulator, case, title, audit)
    audit.assert_clean()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_institution_pages_outside_any_site_layout(lang, make_app, make_user, new_page,
                                                      tmp_path):
    """The campaign and people pages with the extension's own minimal layout (a host that does
    not restyle them), ORCID's search included."""
    app = make_app(**INSTITUTION, TESTING=False,
                   SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite'}")
    admin = make_user(app, given_names="Admin", locale=lang)
    host_orcid.admin_checker(lambda: True)
    host_orcid.people_source(lambda: [
        InstitutionPerson(key="s1", name="Ada Lovelace", email="ada@example.edu",
                          kind="graduate"),
        InstitutionPerson(key="s2", name="Tomás Rivera", email="t.rivera@example.edu",
                          kind="staff")])

    @app.get("/test-login")
    def test_login() -> str:
        session["user_id"] = admin.id
        return "logged in"

    with app.app_context():
        campaign = host_orcid.create_campaign(name="Alumni", csv_text=graduates_csv(
            [graduate(1), graduate(2), graduate(3, email="")]), lang=lang)
        campaign_id = campaign.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    audit = PageAudit(label=f"institution-{lang}")
    try:
        page = new_page(locale="es-ES" if lang == "es" else "en-US")
        page.goto(f"{base}/test-login")
        page.goto(f"{base}/orcid/admin/campaigns")
        assert page.locator("html").get_attribute("lang") == lang
        audit.check(page, "campaigns")
        page.goto(f"{base}/orcid/admin/campaigns/{campaign_id}")
        assert page.locator("#orcid-campaign-problems li").count() == 1
        audit.check(page, "campaign")
        page.goto(f"{base}/orcid/admin/people")
        audit.check(page, "people")
        page.goto(f"{base}/orcid/admin/people?search=1")
        assert page.locator(f"tr[data-orcid='{OKAFOR}']").count() == 1
        audit.check(page, "people-search")
        audit.assert_clean()
    finally:
        server.shutdown()
        server.server_close()
        host_orcid._admin_checker = None
        host_orcid._people_source = None

"""An invitation end to end in a real browser, in English and in Spanish (issue 15): a student
invites their advisor from the deposit form; the email arrives over SMTP (aiosmtpd in this
process); the advisor follows its link, says no at ORCID once, then confirms their iD and opts
in to the thesis; the landing page shows the iD with its icon, and the DataCite XML and OAI-PMH
carry it as authenticated (both valid against their schemas); after publication the thesis is
on the advisor's own emulator record with the supervision role. Every new page goes through
axe-core and the 375 px check on the way."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import admin_page, wait_until
from tests.browser.test_repository_browser import fill_thesis, register, sign_in_at_emulator
from tests.plugins.mail import link_in
from tests.xsd import validate

pytest.importorskip("axe_playwright_python", reason="pip install axe-playwright-python")

from tests.browser.audit import PageAudit  # noqa: E402 - needs the package checked above

SUPERVISION = "http://credit.niso.org/contributor-roles/supervision/"
NS = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/",
      "d": "http://datacite.org/schema/kernel-4"}

#: per language: the student, and the advisor they invite (a researcher the emulator seeds)
CASES = {
    "en": {"student": ("Ada", "Lovelace", "ada-en@example.edu"),
           "advisor": ("Josiah Carberry", "josiah@example.edu", "carberry-1",
                       "0000-0002-1825-0097"),
           "subject": "Ada Lovelace asks you to confirm your ORCID iD",
           "thanks": "Thank you: your ORCID iD is confirmed",
           "declined": "You did not confirm your ORCID iD",
           "used": "This invitation was already used"},
    "es": {"student": ("Lucía", "Pérez Gil", "lucia-es@example.edu"),
           "advisor": ("María José García Núñez", "maria@example.edu", "garcia-1",
                       "0000-0003-4567-890X"),
           "subject": "Lucía Pérez Gil le pide que confirme su iD de ORCID",
           "thanks": "Gracias: su iD de ORCID está confirmado",
           "declined": "No confirmó su iD de ORCID",
           "used": "Esta invitación ya se usó"},
}


def ours(items, client_id):
    return [i for i in items if i["source_client_id"] == client_id]


def _student_invites(page, base: str, case: dict, lang: str, title: str) -> None:
    given, family, email = case["student"]
    name, advisor_email, _password, _orcid = case["advisor"]
    page.goto(f"{base}/lang/{lang}")
    register(page, base, given, family, email, f"{lang}-student-pass")
    page.wait_for_url(f"{base}/submit")
    page.goto(f"{base}/submit/form")
    fill_thesis(page, title)
    page.fill("#department", "Psychoceramics")
    page.fill("#program_start", "2019-09")
    page.fill("#advisors-0-name", name)
    page.fill("#advisors-0-orcid", "")
    page.select_option("#advisors-0-role", "advisor")
    page.fill("#advisors-0-email", advisor_email)
    page.check("#advisors-0-invite")
    page.select_option("#advisors-0-invite_lang", lang)
    page.click("#submit")
    page.wait_for_url(f"{base}/my")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_invitation_end_to_end(lang, live_repo, emulator, smtp_server, new_page):
    base = live_repo.url
    live_repo.app.config.update(smtp_server.config())
    case = CASES[lang]
    name, advisor_email, password, orcid_id = case["advisor"]
    audit = PageAudit(label=f"invitation-{lang}")
    title = f"Ceramics and memory ({lang})"

    student = new_page(locale="es-ES" if lang == "es" else "en-US")
    _student_invites(student, base, case, lang, title)
    assert advisor_email in student.locator("#messages, main").first.inner_text()

    # the email, received by a real SMTP server
    [message] = smtp_server.wait(1)
    assert message["To"] == advisor_email and message["Subject"] == case["subject"]
    link = link_in(message)
    assert link.startswith(f"{base}/orcid/invitations/")

    # the advisor's own browser, in the other language: the page is in the inviter's choice
    advisor = new_page(locale="en-US" if lang == "es" else "es-ES")
    advisor.goto(link)
    assert advisor.locator("html").get_attribute("lang") == lang
    assert title in advisor.locator("#orcid-invitation-who").inner_text()
    audit.check(advisor, "invitation")
    advisor.check("#orcid-add-work")
    advisor.click("#orcid-invitation-form button[type=submit]")
    sign_in_at_emulator(advisor, emulator, password)
    advisor.click("#consent-form button[value=deny]")
    advisor.wait_for_url(f"{base}/orcid/callback**")
    assert case["declined"] in advisor.locator("h1").inner_text()
    audit.check(advisor, "invitation-declined")

    # a change of mind: the link still works
    advisor.click("a.orcid-retry")
    advisor.check("#orcid-add-work")
    advisor.click("#orcid-invitation-form button[type=submit]")
    advisor.wait_for_selector("#consent-form")
    advisor.click("#consent-form button[value=authorize]")
    advisor.wait_for_url(link)
    assert advisor.locator("h1").inner_text() == case["thanks"]
    assert f"{emulator.url}/{orcid_id}" in advisor.locator("#orcid-invitation-id").inner_text()
    assert advisor.locator("#orcid-invitation-id .orcid-id-icon").count() == 1
    audit.check(advisor, "invitation-done")
    advisor.goto(link)  # the link used twice
    assert advisor.locator("h1").inner_text() == case["used"]
    audit.check(advisor, "invitation-used")

    # the student sees the status
    student.goto(f"{base}/my")
    student.locator("main tr", has_text=title).locator("a").first.click()
    assert student.locator("table.orcid-invitations [data-status=authenticated]").count() == 1
    audit.check(student, "thesis-view-invitations")

    # the graduate school publishes; the landing page shows the confirmed iD with its icon
    admin = admin_page(new_page, base, lang)
    admin.locator("main tr", has_text=title).locator("a").first.click()
    audit.check(admin, "admin-review-invitations")
    admin.click("#review-accept")
    admin.wait_for_selector("#doi")
    landing = admin.url.replace("/admin/theses/", "/theses/")
    visitor = new_page(locale="es-ES" if lang == "es" else "en-US")
    visitor.goto(landing)
    confirmed = visitor.locator("#advisors .person-confirmed")
    assert name in confirmed.inner_text() and orcid_id in confirmed.inner_text()
    assert confirmed.locator("a.orcid-id-link .orcid-id-icon").count() == 1
    assert "ORCID iD not authenticated" not in confirmed.inner_text()
    audit.check(visitor, "landing-confirmed")

    # the exports carry it as authenticated: the landing page's DataCite XML, and OAI-PMH
    uri = f"{emulator.url}/{orcid_id}"
    datacite = visitor.request.get(base + visitor.locator("#datacite-link").get_attribute("href"))
    root = validate(datacite.body(), "datacite-4.7/metadata.xsd")
    supervisor_ids = root.xpath("//d:contributor[@contributorType='Supervisor']"
                                "/d:nameIdentifier/text()", namespaces=NS)
    assert supervisor_ids == [uri]
    harvest = visitor.request.get(f"{base}/oai?verb=ListRecords&metadataPrefix=oai_dc")
    records = validate(harvest.body()).xpath("//o:record[.//dc:title[contains(., $t)]]", t=title,
                                              namespaces=NS)
    assert [r.xpath("string(.//dc:contributor)", namespaces=NS) for r in records] == [
        f"{name} ({uri})"]

    # the supervision work on the advisor's own record (the background deliverer sends it)
    def on_record():
        return ours(emulator.record(orcid_id)["works"], emulator.client_id)

    [work] = wait_until(on_record, what="the thesis on the advisor's record")
    assert work["title"] == title
    supervisor = [c for c in work["contributors"] if c["orcid"] == orcid_id]
    assert supervisor and supervisor[0]["role"] == SUPERVISION
    assert re.search(r"\d", " ".join(audit.pages))
    audit.assert_clean()

"""The sample repository in a real browser: a student and an admin click through the whole
story against the ORCID emulator; the denial path and the Spanish pages (issue 6)."""

from __future__ import annotations

import json
import re

from tests.browser.conftest import admin_page, wait_until
from tests.plugins.example import make_pdf

JOSIAH = "0000-0002-1825-0097"
MARIA = "0000-0003-4567-890X"


def ours(items, client_id):
    return [i for i in items if i["source_client_id"] == client_id]


def register(page, base: str, given: str, family: str, email: str, password: str) -> None:
    page.goto(f"{base}/")
    page.get_by_role("navigation", name=re.compile("Main|Principal")).get_by_role(
        "link", name=re.compile("Submit your thesis|Deposite su tesis")).click()
    # not logged in: the login page, with a link to create an account
    page.locator("main a[href*='/account/register']").click()
    page.fill("#given_names", given)
    page.fill("#family_name", family)
    page.fill("#email", email)
    page.fill("#password", password)
    page.fill("#confirm", password)
    page.click("#submit")
    # registration never says whether the address had an account: then log in
    page.wait_for_url("**/account/login**")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#submit")


def sign_in_at_emulator(page, emulator, password: str) -> None:
    page.wait_for_url(f"{emulator.url}/**")
    if page.locator("#signin-form").count():
        page.fill("#password", password)
        page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#consent-form")


def fill_thesis(page, title: str) -> None:
    page.fill("#title", title)
    page.fill("#subtitle", "Ceramic vessels and their meaning")
    page.fill("#abstract", "A study of the psychology of pottery, from kiln to shelf. "
                           "We argue that ceramics carry the moods of their makers.")
    page.fill("#keywords", "psychoceramics, pottery, cognition")
    page.select_option("#degree", "phd")
    page.fill("#degree_date", "2024-05-20")
    page.fill("#advisors-0-name", "Carla Lopez")
    page.fill("#advisors-0-orcid", "https://orcid.org/0000-0002-7654-3218")
    page.select_option("#license", "cc-by-4.0")
    page.check("#agreement")
    page.set_input_files("#pdf", files=[{
        "name": "carberry-thesis.pdf", "mimeType": "application/pdf",
        "buffer": make_pdf(title)}])


def decide_on_dashboard(page, base: str, decisions: dict[str, str]) -> None:
    """The student's approval step after acceptance (the sample ships ORCID_APPROVAL =
    "required"): on their page, approve or decline each item, by ``data-kind``."""
    page.goto(f"{base}/my")
    for kind, decision in decisions.items():
        item = page.locator(f"#orcid-approval li.orcid-review-item[data-kind='{kind}']")
        with page.expect_navigation(url=f"{base}/my"):
            item.locator(f"button[value={decision}]").click()


def test_student_and_admin_story(live_repo, emulator, new_page, screenshot):
    base = live_repo.url
    student = new_page()
    student.goto(f"{base}/")
    screenshot(student, "01-home")

    register(student, base, "Josiah", "Carberry", "josiah@example.edu", "student-pass-1")
    # after registering: the explained ORCID step of "Submit your thesis"
    student.wait_for_url(f"{base}/submit")
    assert student.get_by_role("heading", name="First, connect your ORCID iD").is_visible()
    screenshot(student, "02-orcid-step")

    student.click("a.orcid-connect-button")
    sign_in_at_emulator(student, emulator, "carberry-1")
    screenshot(student, "03-emulator-consent")
    student.click("#consent-form button[value=authorize]")

    # back at the repository: the form is prefilled from the ORCID record
    student.wait_for_url(f"{base}/submit/form")
    assert student.input_value("#given_names") == "Josiah"
    assert student.input_value("#family_name") == "Carberry"
    assert student.input_value("#email") == "josiah@example.edu"
    assert student.input_value("#department") == "Psychoceramics"
    assert student.locator("#institution").count() == 0
    assert "Brown University" in student.locator("#department-source").inner_text()
    assert student.input_value("#program_start") == "1985-09"
    orcid_box = student.locator("#author-orcid")
    assert f"{emulator.url}/{JOSIAH}" in orcid_box.inner_text()
    assert orcid_box.locator("input").count() == 0  # shown, not editable
    screenshot(student, "04-prefilled-form")

    fill_thesis(student, "The Psychology of Ceramics")
    student.click("#submit")
    student.wait_for_url(f"{base}/my")
    row = student.locator("tr", has_text="The Psychology of Ceramics")
    assert "Submitted" in row.inner_text()
    screenshot(student, "05-my-submissions")

    # the graduate school reviews and accepts
    admin = admin_page(new_page, base)
    screenshot(admin, "06-review-queue")
    admin.click("text=The Psychology of Ceramics")
    assert "(ORCID iD not authenticated)" in admin.locator("main").inner_text()
    admin.click("#review-accept")
    doi = admin.locator("#doi").inner_text()
    handle = admin.locator("#handle").inner_text()
    assert doi.startswith("10.5072/etd.2024.") and handle.startswith("20.500.99999/etd.")

    # the student approves both on their page; the background deliverer then posts the work
    # and the education to the emulator
    decide_on_dashboard(student, base, {"work": "approve", "education": "approve"})

    def delivered():
        record = emulator.record(JOSIAH)
        works = ours(record["works"], emulator.client_id)
        educations = ours(record["educations"], emulator.client_id)
        return (works, educations) if works and educations else None

    works, educations = wait_until(delivered, what="the thesis on the ORCID record")
    [work] = works
    ids = {(e["type"], e["value"]) for e in work["external_ids"]}
    assert ("doi", doi) in ids and ("handle", handle) in ids
    assert work["type"] == "dissertation-thesis" and work["contributors"][0]["orcid"] == JOSIAH
    [degree] = educations
    assert degree["role_title"] == "Doctor of Philosophy (PhD)"
    assert degree["organization"]["disambiguated_id"] == "https://ror.org/05gq02987"

    def synced():
        admin.reload()
        return "On the ORCID record" in admin.locator("#sync-state").inner_text()

    wait_until(synced, what="the admin page to show the sync state")
    screenshot(admin, "07-admin-published-synced")

    # the researcher sees it on their record at the emulator (signed in there already)
    student.goto(f"{emulator.url}/console")
    assert "The Psychology of Ceramics" in student.locator("body").inner_text()
    screenshot(student, "08-emulator-record")

    # the public landing page: the iD in full form and in the metadata
    visitor = new_page()
    response = visitor.goto(admin.url.replace("/admin/theses/", "/theses/"))
    uri = f"{emulator.url}/{JOSIAH}"
    assert visitor.locator("#author-orcid a").get_attribute("href") == uri
    assert uri in visitor.locator("#author-orcid").inner_text()
    assert visitor.locator('meta[name="citation_author_orcid"]').get_attribute("content") == uri
    assert visitor.locator('meta[name="citation_doi"]').get_attribute("content") == doi
    doc = json.loads(visitor.locator('script[type="application/ld+json"]').inner_text())
    assert doc["@type"] == "Thesis" and doc["author"]["@id"] == uri
    assert f'<{uri}>; rel="author"' in response.headers["link"]
    assert visitor.locator("#pdf-link").is_visible()
    screenshot(visitor, "09-landing-page")

    # the student disconnects: the iD leaves the public page
    student.goto(f"{base}/orcid/")
    screenshot(student, "10-orcid-connection")
    student.click("a.orcid-disconnect-link")
    assert "public pages" in student.locator("#orcid-disconnect-public").inner_text()
    student.click("#confirm-disconnect")
    student.wait_for_load_state()
    assert JOSIAH in student.locator("main").inner_text()
    screenshot(student, "11-disconnected")
    visitor.reload()
    assert visitor.locator("#author-orcid").count() == 0
    assert visitor.locator('meta[name="citation_author_orcid"]').count() == 0
    assert JOSIAH not in visitor.content()

    # ... and connects again: the thesis and the degree already on the record are adopted,
    # never posted a second time (issue 14, item 2)
    student.goto(f"{base}/orcid/")
    student.click("a.orcid-connect-button")
    student.wait_for_selector("#consent-form")  # still signed in at ORCID
    student.click("#consent-form button[value=authorize]")
    student.wait_for_url(f"{base}/**")
    wait_until(synced, what="the admin page to show the items on the record again")
    record = emulator.record(JOSIAH)
    assert [w["put_code"] for w in ours(record["works"], emulator.client_id)] == [
        work["put_code"]]
    assert [e["put_code"] for e in ours(record["educations"], emulator.client_id)] == [
        degree["put_code"]]


def test_denial_then_retry_in_spanish(live_repo, emulator, new_page, screenshot):
    base = live_repo.url
    page = new_page(locale="es-ES")
    page.goto(f"{base}/lang/es")
    register(page, base, "María José", "García Núñez", "maria@example.edu", "student-pass-2")
    page.wait_for_url(f"{base}/submit")
    assert page.get_by_role("heading", name="Primero, conecte su iD de ORCID").is_visible()
    screenshot(page, "12-es-orcid-step")

    page.click("a.orcid-connect-button")
    page.wait_for_url(f"{emulator.url}/**")
    assert "lang=es" in page.url  # the ORCID screens follow the site's language
    sign_in_at_emulator(page, emulator, "garcia-1")
    screenshot(page, "13-es-emulator-consent")
    page.click("#consent-form button[value=deny]")

    # the denial page: inside the repository's layout, explains, offers both ways on
    page.wait_for_url(f"{base}/orcid/callback**")
    assert page.locator("a.orcid-retry").is_visible()
    assert page.locator("a.orcid-continue").is_visible()
    assert "Escuela de Posgrado" in page.locator("body").inner_text()
    screenshot(page, "14-es-denied")

    page.click("a.orcid-retry")
    page.wait_for_selector("#consent-form")  # still signed in at ORCID: straight to consent
    page.click("#consent-form button[value=authorize]")
    page.wait_for_url(f"{base}/submit/form")
    assert page.input_value("#given_names") == "María José"
    assert page.input_value("#family_name") == "García Núñez"
    assert MARIA in page.locator("#author-orcid").inner_text()
    assert "Describa su tesis" in page.locator("main").inner_text()
    screenshot(page, "15-es-prefilled-form")

    # a non-PDF upload is refused in Spanish, and nothing else typed is lost
    page.fill("#title", "Geografía de la cerámica")
    page.set_input_files("#pdf", files=[{"name": "tesis.pdf", "mimeType": "application/pdf",
                                         "buffer": b"\x89PNG\r\n\x1a\nnot a pdf"}])
    page.click("#save_draft")
    assert "Este archivo no es un PDF" in page.locator("main").inner_text()
    assert page.input_value("#title") == "Geografía de la cerámica"
    screenshot(page, "16-es-pdf-refused")

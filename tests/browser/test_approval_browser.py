"""The student decides before anything goes to their ORCID record (issue 15, item 3), in a real
browser against the emulator, in English and Spanish: after acceptance the sample's dashboard
previews the thesis and the degree; the student approves one and declines the other, by
keyboard; only the approved one reaches the record, and the declined one stays declined."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import admin_page, wait_until
from tests.browser.test_repository_browser import fill_thesis, register, sign_in_at_emulator

PEOPLE = {
    "en": ("Josiah", "Carberry", "josiah@example.edu", "carberry-1", "0000-0002-1825-0097"),
    "es": ("María José", "García Núñez", "maria@example.edu", "garcia-1", "0000-0003-4567-890X"),
}
TEXT = {
    "en": {"ready": "Your thesis and degree are ready to go to your ORCID record",
           "declined": "Declined by you (never sent)", "supervision": "Supervision"},
    "es": {"ready": "Su tesis y su título están listos para ir a su registro de ORCID",
           "declined": "Rechazado por usted (nunca se envía)", "supervision": "Supervisión"},
}


def _ours(emulator, orcid_id: str, section: str) -> list[dict]:
    return [i for i in emulator.record(orcid_id)[section]
            if i["source_client_id"] == emulator.client_id]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_student_approves_the_thesis_and_declines_the_degree(lang, live_repo, emulator,
                                                                 new_page, screenshot):
    base = live_repo.url
    given, family, email, password, orcid_id = PEOPLE[lang]
    text = TEXT[lang]
    student = new_page(locale="es-ES" if lang == "es" else "en-US")
    student.goto(f"{base}/lang/{lang}")
    register(student, base, given, family, email, f"{lang}-approval-pass")
    student.wait_for_url(f"{base}/submit")
    student.click("a.orcid-connect-button")
    sign_in_at_emulator(student, emulator, password)
    student.click("#consent-form button[value=authorize]")
    student.wait_for_url(f"{base}/submit/form")
    fill_thesis(student, f"Approval thesis {lang}")
    if lang == "es":  # nothing at this school on María's record
        student.fill("#department", "Geografía")
        student.fill("#program_start", "2020-09")
    student.click("#submit")
    student.wait_for_url(f"{base}/my")

    admin = admin_page(new_page, base)
    admin.locator("main tr", has_text=f"Approval thesis {lang}").locator("a").first.click()
    admin.click("#review-accept")
    admin.wait_for_selector("#doi")
    doi = admin.locator("#doi").inner_text()

    # the student's page: what will be written, as ORCID will show it
    student.goto(f"{base}/my")
    card = student.locator("#orcid-approval")
    assert text["ready"] in card.inner_text()
    work = card.locator("li.orcid-review-item[data-kind=work]")
    education = card.locator("li.orcid-review-item[data-kind=education]")
    assert f"Approval thesis {lang}" in work.inner_text()
    assert work.locator(f"a[href='https://doi.org/{doi}']").count() == 1
    assert text["supervision"] in work.inner_text()
    assert "Brown University" in education.inner_text()
    screenshot(student, f"approval-{lang}-review")
    # nothing went while the student had not decided (the background deliverer runs)
    assert _ours(emulator, orcid_id, "works") == []

    # by keyboard: focus each button and press Enter
    work.locator("button[value=approve]").focus()
    with student.expect_navigation(url=f"{base}/my"):
        student.keyboard.press("Enter")
    student.locator("#orcid-approval li.orcid-review-item[data-kind=education] "
                    "button[value=decline]").focus()
    with student.expect_navigation(url=f"{base}/my"):
        student.keyboard.press("Enter")
    declined = student.locator("#orcid-approval li.orcid-review-declined")
    assert declined.count() == 1 and "Brown University" in declined.inner_text()
    assert text["declined"] in student.locator("#orcid-approval").inner_text()
    screenshot(student, f"approval-{lang}-decided")

    [delivered] = wait_until(lambda: _ours(emulator, orcid_id, "works"),
                             what="the approved thesis on the ORCID record")
    assert delivered["title"] == f"Approval thesis {lang}"
    # a few more passes of the background deliverer: the degree never arrives
    wait_until(lambda: re.search("On the ORCID record|En el registro de ORCID",
                                 _admin_state(admin)), what="the admin page's sync state")
    assert _ours(emulator, orcid_id, "educations") == []
    state = _admin_state(admin)
    assert re.search("Declined by the author|Rechazado por el autor", state), state


def _admin_state(admin) -> str:
    admin.reload()
    return admin.locator("#sync-state").inner_text()

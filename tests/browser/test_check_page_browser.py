"""The integration check's admin page in a browser (issue 16, item 5): reached from the admin
menu, run with its button and the keyboard, in English and Spanish, with no serious axe-core
violation and nothing wider than a 375 px screen."""

from __future__ import annotations

import pytest

from tests.browser.conftest import admin_page

pytest.importorskip("axe_playwright_python", reason="pip install axe-playwright-python")

from tests.browser.audit import PageAudit  # noqa: E402 - needs the package checked above


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_admin_runs_the_check_from_its_menu(lang, live_repo, emulator, new_page):
    audit = PageAudit(label=f"check-{lang}")
    admin = admin_page(new_page, live_repo.url, lang)
    admin.click("a[href='/orcid/admin/check']")
    admin.wait_for_url(f"{live_repo.url}/orcid/admin/check")
    audit.check(admin, "check-page")
    assert admin.locator("tr[data-point]").count() == 14

    admin.focus("#orcid-run-check")
    admin.keyboard.press("Enter")  # the button works from the keyboard
    admin.wait_for_selector("#orcid-check-result")
    audit.check(admin, "check-results")
    # this live site has no published thesis yet: the public points fail, and say why
    display = admin.locator("tr[data-point='id-display']")
    assert display.get_attribute("data-status") == "fail"
    assert ("CheckTargets.public_pages" in display.inner_text())
    assert admin.locator("tr[data-point='deny-path']").get_attribute("data-status") == "pass"
    audit.assert_clean()

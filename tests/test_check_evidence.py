"""The integration check's evidence pack (issue 16, item 5): Chromium walks the researcher's
steps on the sample repository and the emulator, and one self-contained HTML file holds a
screenshot of each step and the checklist answers."""

from __future__ import annotations

import base64
import re

import pytest

from flask_orcid.readiness import evidence
from tests.test_check import sample  # noqa: F401 - the fixture

STEPS = ["connect", "consent", "denied", "form", "record", "public-id", "disconnect"]


@pytest.fixture
def browser_available() -> None:
    if evidence.playwright_api is None:
        pytest.skip("the evidence pack needs the Python package 'playwright'")
    if evidence.chromium_path() is None:
        pytest.skip("the evidence pack needs Chromium (apt-get install chromium, or $CHROMIUM)")


def test_the_evidence_pack_has_a_screenshot_of_each_step_and_the_answers(
        browser_available, sample, tmp_path):  # noqa: F811
    repo = sample()
    result = repo.test_cli_runner().invoke(args=["orcid", "check", "--evidence",
                                                 str(tmp_path / "pack")])
    assert result.exit_code == 0, result.output
    assert "Evidence pack:" in result.stderr and "(7 screenshots)" in result.stderr
    html = (tmp_path / "pack" / "orcid-evidence.html").read_text(encoding="utf-8")

    figures = re.findall(r'<figure id="step-([a-z-]+)" data-step="\1">(.*?)</figure>', html, re.S)
    assert [step for step, _ in figures] == STEPS
    for step, body in figures:
        [png] = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', body)
        image = base64.b64decode(png)
        assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 5_000, step
    # the captions say what each screenshot shows, and where it was taken
    assert "ORCID&#39;s consent screen (emulator)" in html
    assert re.search(r'id="step-form".*?/submit/form', html, re.S)
    assert re.search(r'id="step-record".*?/console', html, re.S)

    # the checklist answers follow the steps: every point, every one a pass
    rows = re.findall(r'<tr data-point="([a-z-]+)">.*?<td class="([a-z]+)">', html, re.S)
    assert len(rows) == 14 and {status for _, status in rows} == {"pass"}
    # self-contained: nothing to fetch when a reviewer opens it offline
    assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)="(?!data:)', html)

    # the walk cleaned up like the checklist: the test account is disconnected again
    assert "PASS  disconnect-revokes" in result.stdout


def test_without_a_browser_the_checklist_still_runs(sample, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setattr(evidence, "playwright_api", None)
    repo = sample()
    result = repo.test_cli_runner().invoke(args=["orcid", "check", "--evidence",
                                                 str(tmp_path / "pack")])
    assert result.exit_code == 0
    assert ("No evidence pack: The evidence pack needs the Python package playwright (pip "
            "install playwright). The checklist ran without it.") in result.stderr
    assert "14 points: 14 pass, 0 fail, 0 to show the reviewer." in result.stdout
    assert not (tmp_path / "pack").exists()

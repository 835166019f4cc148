"""The integration check's admin page (issue 16, item 5): admins only, the checklist with
ORCID's sources, the check run by a POST with the CSRF token, in English and Spanish."""

from __future__ import annotations

import re

from tests.plugins.example import RepoUser, csrf_token
from tests.test_check import POINT_IDS, sample  # noqa: F401 - the fixture

ACTION = "/orcid/admin/check"


def _admin(repo) -> RepoUser:  # noqa: ANN001
    admin = RepoUser(repo, "admin@example.edu", "password-1")
    assert admin.login().status_code == 302
    return admin


def test_the_admin_page_is_for_admins_only(sample, make_person):  # noqa: F811
    repo = sample()
    student = make_person(repo, email="other@example.edu")
    assert student.client.get("/orcid/admin/check").status_code == 403
    assert student.client.post("/orcid/admin/check").status_code in (400, 403)
    assert repo.test_client().get("/orcid/admin/check").status_code == 403
    # the admin area links to it
    home = _admin(repo).client.get("/admin/").get_data(as_text=True)
    assert 'href="/orcid/admin/check"' in home


def test_the_admin_runs_the_check_and_reads_every_answer(sample):  # noqa: F811
    repo = sample()
    admin = _admin(repo)
    page = admin.client.get("/orcid/admin/check").get_data(as_text=True)
    assert re.findall(r'<tr data-point="([a-z-]+)">', page) == POINT_IDS  # nothing run yet
    assert "https://members.orcid.org/api/member-api-credentials-check-list" in page

    # a POST without the token runs nothing
    assert admin.client.post("/orcid/admin/check").status_code == 400
    done = admin.client.post("/orcid/admin/check", data={"csrf_token": csrf_token(page, action=ACTION)})
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert re.findall(r'<tr data-point="([a-z-]+)" data-status="pass">', html) == POINT_IDS
    assert "Every point passes (0 to show the reviewer)." in html
    assert "PUT /v3.0/" in html
    # the admin is still the admin afterwards (the check's requests had their own context)
    assert admin.client.get("/admin/").status_code == 200


def test_the_admin_page_in_spanish(sample, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("REPOSITORY_INSTANCE_PATH", str(tmp_path / "instance"))
    repo = sample(ORCID_SUPPORT_EMAIL=None)
    admin = _admin(repo)
    admin.client.get("/lang/es")
    page = admin.client.get("/orcid/admin/check").get_data(as_text=True)
    assert "Comprobación de la integración con ORCID" in page
    html = admin.client.post("/orcid/admin/check",
                             data={"csrf_token": csrf_token(page, action=ACTION)}).get_data(as_text=True)
    assert "1 punto falla." in html
    assert re.search(r'data-point="support-contact" data-status="fail">.*?No se ha configurado '
                     r"ORCID_SUPPORT_EMAIL", html, re.S)

"""Finding 8: Content-Security-Policy without inline script or style, Referrer-Policy
(no-referrer on the OAuth pages), nosniff, no framing, no-store on private pages."""

from __future__ import annotations

import re

import pytest

from tests.test_example_workflow import accept, submit_thesis, theses

CARBERRY = "josiah@example.edu"


def test_extension_oauth_pages_send_no_referrer_and_are_not_cached(app, client, authorize,
                                                                   make_user, login):
    login(client, make_user(app, email="j@example.edu"))
    connect = client.get("/orcid/connect")
    callback = client.get(authorize(client, CARBERRY))
    page = client.get("/orcid/")
    error = client.get("/orcid/callback?code=x&state=forged")
    for response in (connect, callback, page, error):
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_extension_static_files_stay_cacheable(client):
    response = client.get("/orcid/static/orcid/orcid-id-icon.svg")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


@pytest.fixture
def repo(make_repo):
    return make_repo()


@pytest.mark.parametrize("path", ["/", "/theses", "/account/login", "/account/register"])
def test_repository_pages_carry_a_strict_policy(repo, path):
    response = repo.test_client().get(path)
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]


INLINE = re.compile(r"<script(?![^>]*type=\"application/ld\+json\")[^>]*>\s*\S|\sstyle=\"|\son\w+=\"",
                    re.I)


def test_no_inline_script_style_or_handlers_on_any_page(repo, make_person):
    student = make_person(repo)
    submit_thesis(student)
    [thesis] = theses(repo)
    admin = make_person(repo, email="admin@example.edu", admin=True)
    accept(admin, thesis.id)
    pages = {student: ["/", "/theses", f"/theses/{thesis.id}", "/my", "/submit",
                       f"/my/theses/{thesis.id}", "/orcid/", "/account/login"],
             admin: ["/admin/", f"/admin/theses/{thesis.id}", "/orcid/admin"]}
    for who, paths in pages.items():
        for path in paths:
            response = who.client.get(path)
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            assert not INLINE.search(html), (path, INLINE.search(html).group(0))


def test_private_pages_are_not_cached(repo, make_person):
    student = make_person(repo)
    for path in ("/my", "/submit", "/orcid/", "/theses"):
        response = student.client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path
    # a public page for an anonymous visitor may be cached
    assert "no-store" not in repo.test_client().get("/theses").headers.get("Cache-Control", "")


def test_orcid_pages_in_the_repository_keep_no_referrer(repo, make_person):
    student = make_person(repo)
    assert student.client.get("/orcid/").headers["Referrer-Policy"] == "no-referrer"
    assert student.client.get("/orcid/connect").headers["Referrer-Policy"] == "no-referrer"

"""Finding 10: the language switcher changes no stored state on GET; its POST needs CSRF.
Finding 1's original report: /lang/en?next=/%09/evil.example."""

from __future__ import annotations

import pytest

from example_repository.db import db
from example_repository.models import User

from ..plugins.example import csrf_token


def _locale(app, email):
    with app.app_context():
        return db.session.scalar(db.select(User.locale).filter_by(email=email))


def test_get_changes_the_session_only(make_repo, make_person):
    app = make_repo()
    student = make_person(app)
    before = _locale(app, student.email)
    response = student.client.get("/lang/es?next=/theses")
    assert response.status_code == 302 and response.headers["Location"] == "/theses"
    assert _locale(app, student.email) == before  # nothing written to the database
    assert '<html lang="es">' in student.client.get("/theses").get_data(as_text=True)


def test_post_without_csrf_is_refused(make_repo, make_person):
    app = make_repo()
    student = make_person(app)
    before = _locale(app, student.email)
    assert student.client.post("/lang/es", data={"next": "/theses"}).status_code == 400
    assert _locale(app, student.email) == before


def test_the_switcher_is_a_form_that_saves_the_choice(make_repo, make_person):
    app = make_repo()
    student = make_person(app)
    html = student.client.get("/theses").get_data(as_text=True)
    assert 'href="/lang/' not in html
    assert '<form method="post" action="/lang/es">' in html
    response = student.client.post("/lang/es", data={
        "csrf_token": csrf_token(html, action="/lang/es"), "next": "/theses"})
    assert response.status_code == 302 and response.headers["Location"] == "/theses"
    assert _locale(app, student.email) == "es"


@pytest.mark.parametrize("evil", ["/%09/evil.example", "/%0d%0a/evil.example", "//evil.example",
                                  "/%5Cevil.example", "/\\evil.example"])
def test_switcher_never_redirects_off_site(make_repo, evil):
    client = make_repo().test_client()
    response = client.get(f"/lang/en?next={evil}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

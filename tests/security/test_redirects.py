"""Finding 1: one safe-redirect helper for the whole project; 30+ open-redirect variants."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from example_repository import auth
from flask_orcid.safety import safe_next

EVIL = [
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "https://evil.example",
    "http://evil.example/deposit",
    "HTTPS://evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "\t//evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/%0a//evil.example\n",
    "/%09/evil.example",
    "/%2f/evil.example",
    "/%2F%2Fevil.example",
    "/%5cevil.example",
    "/%5Cevil.example",
    "/%252f%252fevil.example",
    "/%25252f%25252fevil.example",
    "/\u0000/evil.example",
    "/\u200b/evil.example",
    "/\u00a0/evil.example",
    "/\uff0f/evil.example",  # fullwidth solidus
    "/\uff3cevil.example",  # fullwidth reverse solidus
    " //evil.example",
    "/ /evil.example",
    "/deposit\r\nSet-Cookie: x=1",
    "evil.example",
    "deposit",
    "@evil.example",
    "/" + "a" * 3000,
    "",
    None,
]


@pytest.mark.parametrize("value", EVIL)
def test_unsafe_next_is_refused(value):
    assert safe_next(value) is None


@pytest.mark.parametrize(
    "value", ["/deposit", "/deposit?step=2#top", "/a/b/", "/browse?q=a%20b", "/tesis/a%C3%B1o"]
)
def test_same_site_next_is_kept(value):
    assert safe_next(value) == value


def test_sample_repository_uses_the_one_helper():
    assert auth.safe_next("/%09/evil.example", "/home") == "/home"
    assert auth.safe_next("/student/", "/home") == "/student/"


def _location(response) -> str:
    return response.headers.get("Location", "")


@pytest.mark.parametrize("evil", ["/%09/evil.example", "/%0d%0a/evil.example", "%2F%2Fevil.example",
                                  "/%5Cevil.example", "https%3A%2F%2Fevil.example"])
def test_sample_login_never_redirects_off_site(make_repo, make_person, evil):
    app = make_repo()
    person = make_person(app)
    person.client.post("/account/logout", data={})
    person.client.delete_cookie("session")
    response = person.post_form(f"/account/login?next={evil}",
                                {"email": person.email, "password": person.password},
                                page="/account/login")
    assert response.status_code == 302
    location = _location(response)
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location and "\t" not in location


def test_flow_never_redirects_off_site_with_encoded_next(app, client, connect, make_user, login):
    login(client, make_user(app, email="j@example.edu"))
    response = connect(client, "josiah@example.edu", next="/\t/evil.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "/orcid/"


def test_connect_with_encoded_next_stays_on_site(app, client):
    response = client.get("/orcid/connect?next=" + quote("/%2f/evil.example", safe=""))
    assert "evil.example" not in response.headers["Location"].split("state=")[0].split("?")[0]


@pytest.mark.parametrize(
    "evil", ["//evil.example", "https://evil.example", "javascript:alert(document.cookie)"]
)
def test_flow_never_redirects_off_site(app, client, connect, make_user, login, evil):
    login(client, make_user(app, email="j@example.edu"))
    response = connect(client, "josiah@example.edu", next=evil)
    assert response.status_code == 302
    assert response.headers["Location"] == "/orcid/"


def test_denial_page_continue_link_is_same_site(app, client, connect):
    response = connect(client, "josiah@example.edu", approve=False, next="https://evil.example")
    assert response.status_code == 200
    assert "evil.example" not in response.get_data(as_text=True)

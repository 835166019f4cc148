"""Findings 5 and 6: every callback outcome needs its state; ORCID's error words never reach
the page, and nothing from the URL reaches the log with CR/LF intact."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from flask_orcid.safety import loggable
from flask_orcid.signals import orcid_denied


def _state(client) -> str:
    location = client.get("/orcid/connect").headers["Location"]
    return parse_qs(urlsplit(location).query)["state"][0]


@pytest.fixture
def denials():
    seen: list[dict] = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    orcid_denied.connect(receiver)
    yield seen
    orcid_denied.disconnect(receiver)


@pytest.mark.parametrize("state", [None, "", "forged-by-someone-else"])
def test_denial_without_a_valid_state_fires_nothing(app, client, make_user, login, denials, state):
    login(client, make_user(app, email="j@example.edu"))
    _state(client)  # a sign-in is in flight, but not this one
    url = "/orcid/callback?error=access_denied"
    if state is not None:
        url += f"&state={state}"
    response = client.get(url)
    assert response.status_code == 400
    assert denials == []


def test_denial_with_its_state_fires_once(app, client, make_user, login, denials):
    login(client, make_user(app, email="j@example.edu"))
    state = _state(client)
    assert client.get(f"/orcid/callback?error=access_denied&state={state}").status_code == 200
    assert [d["user_key"] for d in denials] == ["1"]
    # the state is spent: the same denial again is refused and fires nothing
    assert client.get(f"/orcid/callback?error=access_denied&state={state}").status_code == 400
    assert len(denials) == 1


def test_other_errors_without_state_are_refused(client):
    response = client.get("/orcid/callback?error=server_error")
    assert response.status_code == 400
    assert "did not say which sign-in" in response.get_data(as_text=True)


@pytest.mark.parametrize("error", ["server_error", "made_up_error", "x\r\nINFO forged line"])
def test_error_words_are_ours_and_the_log_has_no_crlf(client, caplog, error):
    caplog.set_level(logging.DEBUG)
    state = _state(client)
    description = "Call +1-555 now\r\nWARNING forged: admin logged in"
    response = client.get(f"/orcid/callback?error={quote(error)}"
                          f"&error_description={quote(description)}&state={state}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "555" not in page and "forged" not in page and error not in page
    for record in caplog.records:
        message = record.getMessage()
        assert "\r" not in message and "\n" not in message


def test_loggable_strips_control_characters():
    assert loggable("a\r\nb\x1b[31m\u2028c") == "a??b?[31m?c"
    assert loggable(None) == ""
    assert len(loggable("x" * 1000, 50)) == 50


def test_a_refused_code_leaves_the_address_bar(app, client, caplog):
    """Finding 9: a callback carrying a code always ends in a redirect to a URL without it;
    the explanation is shown there, once."""
    state = _state(client)
    response = client.get(f"/orcid/callback?code=Zz9Yy8&state=not-{state}")
    assert response.status_code == 302 and response.headers["Location"] == "/orcid/callback"
    page = client.get("/orcid/callback")
    assert page.status_code == 400
    assert "does not match a sign-in started in this browser" in page.get_data(as_text=True)
    assert "Zz9Yy8" not in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # shown once: the bare URL again is the plain "which sign-in?" refusal
    again = client.get("/orcid/callback")
    assert again.status_code == 400
    assert "did not say which sign-in" in again.get_data(as_text=True)


def test_a_successful_callback_redirects_without_the_code(app, client, authorize, make_user,
                                                          login):
    login(client, make_user(app, email="j@example.edu"))
    callback = authorize(client, "josiah@example.edu", next="/deposit")
    response = client.get(callback)
    assert response.status_code == 302 and "code=" not in response.headers["Location"]

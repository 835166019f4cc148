"""Finding 2 (request size) and finding 12 (no password dialog on 401)."""

from __future__ import annotations

import pytest

SIXTY_MB = 60 * 1024 * 1024


def test_anonymous_huge_post_to_login_is_refused_before_parsing(make_repo):
    app = make_repo()
    assert app.config["MAX_CONTENT_LENGTH"] == 51 * 1024 * 1024
    client = app.test_client()
    response = client.post("/account/login", data=b"a=" + b"x" * SIXTY_MB,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)  # the friendly page


def test_request_size_limit_is_configurable(make_repo):
    app = make_repo(REPOSITORY_MAX_PDF_MB=1)
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    app = make_repo(MAX_CONTENT_LENGTH=4096)
    assert app.config["MAX_CONTENT_LENGTH"] == 4096
    response = app.test_client().post("/account/login", data={"email": "x" * 5000})
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/orcid/", "/orcid/items"])
def test_401_pages_never_ask_for_basic_auth(client, make_repo, path):
    for c in (client, make_repo().test_client()):
        response = c.get(path)
        assert response.status_code == 401
        header = response.headers.get("WWW-Authenticate", "")
        assert "basic" not in header.lower() and "digest" not in header.lower()

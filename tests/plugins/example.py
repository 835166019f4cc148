"""Fixtures for the sample repository's tests (issue 6): fresh apps, accounts, and a real PDF."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

CSRF_RE = re.compile(r'name="(?:[a-z]+-)?csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


def make_pdf(text: str = "A thesis") -> bytes:
    """A small well-formed PDF (the demo's generator)."""
    from example_repository.samples import sample_pdf

    return sample_pdf(text)


def csrf_token(html: str, action: str | None = None) -> str:
    """The CSRF token of the first form on a page (or of the first form posting to ``action``)."""
    marker = f'action="{action}"'
    if action is not None and marker in html:
        html = html[html.index(marker):]
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def base_config(tmp_path: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "example-test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'repository.sqlite'}",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "ORCID_ENVIRONMENT": "emulator",
        "ORCID_CLIENT_ID": "APP-DEMO000000000001",
        "ORCID_CLIENT_SECRET": "demo-secret-0001",
        "ORCID_SUPPORT_EMAIL": "etd-help@example.edu",
        "ORCID_DELIVERY": "off",
        # invitation emails of the demo's folder backend stay in the test's folder
        "ORCID_MAIL_FOLDER": str(tmp_path / "mailbox"),
        # a cheap hash keeps the suite fast on a busy machine; the app's default is scrypt
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


@pytest.fixture
def make_repo(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Flask]]:
    """Factory of fresh sample repositories; ``with_emulator=True`` points them at the emulator."""
    from example_repository import create_app
    from example_repository.db import db

    apps: list[Flask] = []

    def factory(with_emulator: bool = False, **config: Any) -> Flask:
        cfg = base_config(tmp_path / f"app{len(apps)}")
        (tmp_path / f"app{len(apps)}").mkdir()
        if with_emulator:
            emulator = request.getfixturevalue("emulator")
            cfg.update(ORCID_EMULATOR_URL=emulator.url, ORCID_CLIENT_ID=emulator.client_id,
                       ORCID_CLIENT_SECRET=emulator.client_secret)
        cfg.update(config)
        app = create_app(cfg)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            state = app.extensions.get("orcid")
            client = getattr(state, "client", None)
            if client is not None:
                client.close()
            for engine in db.engines.values():
                engine.dispose()


class RepoUser:
    """Drives the repository as one person through its test client."""

    def __init__(self, app: Flask, email: str, password: str) -> None:
        self.app = app
        self.client = app.test_client()
        self.email = email
        self.password = password

    def post_form(self, url: str, data: dict[str, Any], page: str | None = None, **kw: Any):
        """GET the page holding the form (``page``, default ``url``), then POST with its token."""
        html = self.client.get(page or url).get_data(as_text=True)
        token = csrf_token(html, action=url if page else None)
        payload = {"csrf_token": token}
        for name in data:  # prefixed forms (``review-accept``) carry ``review-csrf_token``
            prefix, dash, _rest = name.partition("-")
            if dash and prefix in ("review", "edit", "withdraw"):
                payload[f"{prefix}-csrf_token"] = token
        payload.update(data)
        return self.client.post(url, data=payload, **kw)

    def login(self):
        return self.post_form("/account/login", {"email": self.email, "password": self.password})


@pytest.fixture
def make_person() -> Callable[..., RepoUser]:
    """Create an account directly in the database and return a logged-in :class:`RepoUser`."""

    def factory(app: Flask, email: str = "student@example.edu", password: str = "password-1",
                given_names: str = "Ada", family_name: str = "Lovelace",
                admin: bool = False) -> RepoUser:
        from example_repository.db import db
        from example_repository.models import User

        with app.app_context():
            user = User(email=email, given_names=given_names, family_name=family_name,
                        is_admin=admin)
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
        person = RepoUser(app, email, password)
        response = person.login()
        assert response.status_code == 302, response.get_data(as_text=True)
        return person

    return factory

"""Browser tests of the sample repository (issue 6): Playwright driving Debian's Chromium.

The emulator and the repository run as real servers on 127.0.0.1 (free ports); the browser
clicks through both. Without Playwright or a Chromium binary the tests are skipped with that
reason. Screenshots of the key pages go to ``test-artifacts/screenshots/`` (not committed).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from tests.plugins.example import base_config

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


#: the graduate school's admin account of ``live_repo``
ADMIN_EMAIL = "admin@example.edu"
ADMIN_PASSWORD = "admin-pass-1"

def chromium_path() -> str | None:
    """``$CHROMIUM`` if set, else Debian's ``chromium`` on the PATH."""
    candidate = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return candidate if candidate and os.access(candidate, os.X_OK) else None


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for this package; closed when the package is done, because Playwright's
    sync API allows one instance per thread and other test modules start their own."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the Python package 'playwright' (pip install playwright)")
    path = chromium_path()
    if path is None:
        tried = os.environ.get("CHROMIUM") or "'chromium' on the PATH"
        pytest.skip(f"browser tests need Chromium and found none ({tried}): "
                    "apt-get install chromium, or set CHROMIUM=/path/to/chromium")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Pages in separate browser contexts (separate cookies: a student, an admin, a visitor)."""
    contexts = []

    def factory(locale: str = "en-US") -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshot() -> Callable[[Any, str], Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@dataclass
class LiveRepository:
    url: str
    app: Flask


@pytest.fixture
def live_repo(emulator: Any, tmp_path: Path) -> Iterator[LiveRepository]:
    """The sample repository on a free port, delivering to the emulator from a background
    thread (``ORCID_DELIVERY="thread"``, as in ``make demo``), with one admin account."""
    from werkzeug.serving import make_server

    from example_repository import create_app
    from example_repository.db import db
    from example_repository.models import User
    from example_repository.orcid_setup import orcid

    config = base_config(tmp_path)
    config.update(
        TESTING=False,
        ORCID_EMULATOR_URL=emulator.url,
        ORCID_CLIENT_ID=emulator.client_id,
        ORCID_CLIENT_SECRET=emulator.client_secret,
        ORCID_DELIVERY="thread",
        ORCID_DELIVERY_INTERVAL=0.5,
        ORCID_REACHABILITY_SECONDS=60,
        ORCID_TOKEN_KEYS=Fernet.generate_key().decode(),
    )
    app = create_app(config)
    with app.app_context():
        admin = User(email=ADMIN_EMAIL, given_names="Grace", family_name="Hopper",
                     is_admin=True)
        admin.set_password(ADMIN_PASSWORD)
        db.session.add(admin)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveRepository(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        server.server_close()
        orcid.stop_delivery(app)
        with app.app_context():
            state = app.extensions.get("orcid")
            client = getattr(state, "client", None)
            if client is not None:
                client.close()
            for engine in db.engines.values():
                engine.dispose()


def wait_until(check: Callable[[], Any], seconds: float = 20.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def admin_page(new_page: Callable[..., Any], base: str, lang: str | None = None) -> Any:
    """A new page signed in as ``live_repo``'s admin (in ``lang``, if given), on the admin
    dashboard."""
    admin = new_page()
    if lang is not None:
        admin.goto(f"{base}/lang/{lang}")
    admin.goto(f"{base}/account/login")
    admin.fill("#email", ADMIN_EMAIL)
    admin.fill("#password", ADMIN_PASSWORD)
    admin.click("#submit")
    admin.wait_for_url(f"{base}/admin/")
    return admin

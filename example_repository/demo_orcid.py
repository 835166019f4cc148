"""``make demo``: the sample theses' authors connect their iDs, so authenticated iDs show at once.

Each sample author gets a researcher at the emulator (same name and email) and goes through the
real flow once, as a person would: the repository's ``/orcid/connect``, the emulator's sign-in
and consent screens over HTTP, then the repository's callback. Their published theses are then
queued for their records like anybody else's. Runs only for authors not connected yet.
"""

from __future__ import annotations

import logging
import re
import secrets
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests
from flask import Flask

from .db import db
from .models import User
from .orcid_setup import orcid
from .samples import SAMPLE_THESES

log = logging.getLogger(__name__)


class _Forms(HTMLParser):
    """The forms of an emulator page: id -> (action, {name: value})."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, tuple[str, dict[str, str]]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {}
            self.forms[a.get("id", f"form{len(self.forms)}")] = (a.get("action", ""),
                                                                 self._current)
        elif tag == "input" and self._current is not None and a.get("name"):
            self._current[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _at_emulator(http: requests.Session, url: str, email: str, password: str) -> str:
    """Sign in and authorize at the emulator; return the callback URL it sends back to."""
    method, data = "GET", None
    host = urlsplit(url).netloc
    for _ in range(8):
        response = http.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url, method, data = urljoin(url, response.headers["Location"]), "GET", None
            if urlsplit(url).netloc != host:
                return url
            continue
        page = _Forms()
        page.feed(response.text)
        if "consent-form" in page.forms:
            action, fields = page.forms["consent-form"]
            data = {**fields, "action": "authorize"}
        elif "signin-form" in page.forms:
            action, fields = page.forms["signin-form"]
            data = {**fields, "username": email, "password": password}
        else:
            raise RuntimeError(f"unexpected emulator page at {url} ({response.status_code})")
        url, method = urljoin(response.url, action), "POST"
    raise RuntimeError("the emulator's sign-in did not finish")


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    if match is None:
        raise RuntimeError("no CSRF token on the login page")
    return match.group(1)


def connect_author(app: Flask, base_url: str, emulator_url: str, user_id: int) -> None:
    """The author of ``user_id`` connects their iD through the real flow (see module doc)."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        email, given, family = user.email, user.given_names, user.family_name
        password = secrets.token_urlsafe(16)  # known to this function only
        user.set_password(password)
        db.session.commit()
    http = requests.Session()
    answer = http.post(f"{emulator_url}/_emulator/researchers", timeout=10, json={
        "given_names": given, "family_name": family, "email": email, "password": password})
    if answer.status_code == 409:
        raise RuntimeError(f"{email} already has an emulator record with another password")
    answer.raise_for_status()
    site = app.test_client()
    login = site.get("/account/login", base_url=base_url).get_data(as_text=True)
    site.post("/account/login", base_url=base_url, data={
        "csrf_token": _csrf(login), "email": email, "password": password})
    start = site.get("/orcid/connect?next=/my", base_url=base_url)
    callback = _at_emulator(http, start.headers["Location"], email, password)
    parts = urlsplit(callback)
    done = site.get(f"{parts.path}?{parts.query}", base_url=base_url)
    if done.status_code != 302:
        raise RuntimeError(f"the callback for {email} answered {done.status_code}")


def connect_sample_authors(app: Flask, base_url: str, emulator_url: str) -> int:
    """Connect the sample theses' authors that have no connection yet; returns how many."""
    from_samples = {sample["author"][2] for sample in SAMPLE_THESES}
    with app.app_context():
        waiting = [u.id for u in db.session.scalars(db.select(User)).all()
                   if u.email in from_samples and orcid.get_account(u.key) is None]
    for user_id in waiting:
        connect_author(app, base_url, emulator_url, user_id)
    return len(waiting)

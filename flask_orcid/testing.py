"""A pytest plugin for host applications: the ORCID emulator as a fixture.

Installed with flask-orcid and registered under the ``pytest11`` entry point ``flask_orcid``,
so any project that has flask-orcid installed gets, with no configuration:

- ``orcid_emulator`` (function scope): the emulator of :mod:`flask_orcid.emulator`, running for
  the whole test session on a free loopback port and reset to its seed state before each test.
  It is an :class:`EmulatorHandle`: ``.url``, the seeded client credentials ``.client_id`` /
  ``.client_secret``, ``.new_researcher(**fields)``, ``.authorize(test_client_or_url,
  researcher)`` (signs in and answers ORCID's consent screen like a person), inspection
  (``.record``, ``.tokens``, ``.requests``, ``.webhooks``) and fault scripting (``.fault``,
  ``.clear_faults``, ``.limits``);
- ``orcid_emulator_server`` (session scope): the server itself;
- ``orcid_emulator_config`` (session scope): settings for the emulator's ``create_app``;
  override it in a ``conftest.py`` to change them.

Everything goes over real HTTP; the plugin imports the emulator, never the extension.
Disable it with ``-p no:flask_orcid``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit

import pytest
import requests
from flask import Flask
from requests import Session
from werkzeug.serving import BaseWSGIServer, make_server

from .emulator import create_app

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "EmulatorHandle",
    "EmulatorServer",
    "orcid_emulator",
    "orcid_emulator_config",
    "orcid_emulator_server",
]

#: The client the emulator seeds (its redirect URIs accept any local callback).
DEMO_CLIENT_ID = "APP-DEMO000000000001"
DEMO_CLIENT_SECRET = "demo-secret-0001"


class ClientLike(Protocol):
    """What :meth:`EmulatorHandle.authorize` needs of a Flask test client."""

    def get(self, *args: Any, **kwargs: Any) -> Any: ...


@dataclass
class EmulatorServer:
    """The running emulator: its base URL, its Flask app and the WSGI server."""

    url: str
    app: Flask
    server: BaseWSGIServer


class _Forms(HTMLParser):
    """The forms of a page: id -> {"action", "fields": {name: value}}, and its alerts."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, Any]] = {}
        self._current: dict[str, Any] | None = None
        self.alerts: list[str] = []
        self._in_alert = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {"action": a.get("action", ""), "fields": {}, "buttons": {}}
            self.forms[a.get("id") or f"form{len(self.forms)}"] = self._current
        elif tag == "input" and self._current is not None and a.get("name"):
            self._current["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and self._current is not None and a.get("name"):
            self._current["buttons"][a.get("value", "")] = a["name"]
        elif a.get("role") == "alert":
            self._in_alert = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        self._in_alert = False

    def handle_data(self, data: str) -> None:
        if self._in_alert and data.strip():
            self.alerts.append(data.strip())


def _answer(page: _Forms, email: str, password: str, approve: bool,
            signin_tried: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The form a person would submit on this emulator page, and what they would type."""
    if "consent-form" in page.forms:
        form = page.forms["consent-form"]
        return form, dict(form["fields"], action="authorize" if approve else "deny")
    if "signin-form" in page.forms:
        if signin_tried:
            raise AssertionError(f"sign-in refused for {email}: {' '.join(page.alerts)}")
        form = page.forms["signin-form"]
        return form, dict(form["fields"], username=email, password=password)
    if "register-form" in page.forms:
        form = page.forms["register-form"]
        data = dict(form["fields"], email=email, password=password)
        data["given_names"] = data.get("given_names") or "Test"
        return form, data
    raise AssertionError("unexpected emulator page")


class EmulatorHandle:
    """What a test needs from the emulator: seeded credentials, inspection, knobs, a browser."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.url = server.url
        self.app = server.app
        self.client_id = DEMO_CLIENT_ID
        self.client_secret = DEMO_CLIENT_SECRET
        self.http = requests.Session()
        self.researchers: list[dict[str, Any]] = self._get("/_emulator/researchers")

    # -- plumbing --------------------------------------------------------------------------------
    def _get(self, path: str, **params: Any) -> Any:
        response = self.http.get(self.url + path, params=params or None, timeout=10)
        response.raise_for_status()
        return response.json()

    def _send(self, method: str, path: str, payload: Any = None) -> Any:
        response = self.http.request(method, self.url + path, json=payload, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self) -> None:
        """Back to the seed state: records, clients, tokens, faults, limits, counters."""
        self._send("POST", "/_emulator/reset")
        self.researchers = self._get("/_emulator/researchers")

    def close(self) -> None:
        self.http.close()

    # -- registry --------------------------------------------------------------------------------
    def researcher(self, email_or_orcid: str) -> dict[str, Any]:
        """A seeded (or created) researcher by email or iD."""
        key = email_or_orcid.lower()
        for r in self._get("/_emulator/researchers"):
            if r["orcid"] == email_or_orcid or any(e["email"].lower() == key
                                                   for e in r["emails"]):
                return dict(r)
        raise KeyError(f"no researcher {email_or_orcid!r} in the emulator")

    def new_researcher(self, **fields: Any) -> dict[str, Any]:
        """Create a researcher: ``given_names``, ``family_name``, ``email``, ``password`` and
        optional extras. Returns it with its new ``orcid``, ``email`` and ``password``."""
        created: dict[str, Any] = self._send("POST", "/_emulator/researchers", fields)
        self.researchers = self._get("/_emulator/researchers")
        return created

    def new_client(self, name: str = "Test client", redirect_uris: list[str] | None = None,
                   premium: bool = False) -> dict[str, Any]:
        created: dict[str, Any] = self._send(
            "POST", "/_emulator/clients",
            {"name": name, "redirect_uris": redirect_uris, "premium": premium})
        return created

    def record(self, orcid: str) -> dict[str, Any]:
        """Everything the emulator holds for ``orcid`` (works, affiliations, ...)."""
        found: dict[str, Any] = self._get(f"/_emulator/records/{orcid}")
        return found

    def tokens(self, **filters: Any) -> list[dict[str, Any]]:
        """Tokens with their status; filters: ``orcid``, ``client_id``, ``status``, ..."""
        query = {k: v for k, v in filters.items() if k in ("orcid", "client_id")}
        rows = self._get("/_emulator/tokens", **query)
        return [r for r in rows if all(r.get(k) == v for k, v in filters.items())]

    # -- the researcher's own actions ------------------------------------------------------------
    def delete_item(self, orcid: str, section: str, put_code: int) -> None:
        self._send("POST", f"/_emulator/records/{orcid}/{section}/{put_code}/delete")

    def user_revoke(self, orcid: str, client_id: str | None = None) -> int:
        body = self._send("POST", f"/_emulator/records/{orcid}/revoke",
                          {"client_id": client_id or self.client_id})
        return int(body["revoked"])

    def record_status(self, orcid: str, status: str, primary: str | None = None) -> dict[str, Any]:
        """Lock, deactivate, deprecate or merge a record (``primary``: the record it moved to)."""
        result: dict[str, Any] = self._send("POST", f"/_emulator/records/{orcid}/status",
                                            {"status": status, "primary": primary})
        return result

    # -- knobs -----------------------------------------------------------------------------------
    def fault(self, **spec: Any) -> dict[str, Any]:
        """Script a failure: ``method``, ``path`` (regex), ``count``, ``action``
        (status|hang|drop|apply_then_fail), ``status``, ``retry_after``, ``hang_seconds``,
        ``then`` ("drop" for apply_then_fail)."""
        created: dict[str, Any] = self._send("POST", "/_emulator/faults", spec)
        return created

    def clear_faults(self) -> None:
        self._send("DELETE", "/_emulator/faults")

    def limits(self, **kw: Any) -> dict[str, Any]:
        """ORCID's rate limit and latency: ``rate``, ``burst``, ``latency_ms``."""
        changed: dict[str, Any] = self._send("PUT", "/_emulator/limits", kw)
        return changed

    def requests(self) -> dict[str, Any]:
        """The API requests received so far (counts per endpoint)."""
        seen: dict[str, Any] = self._get("/_emulator/requests")
        return seen

    def reset_requests(self) -> None:
        self._send("DELETE", "/_emulator/requests")

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock forward (authorization codes expire after 600 s)."""
        self._send("POST", "/_emulator/clock", {"advance": seconds})

    def webhooks(self) -> dict[str, Any]:
        """Registered webhooks and the callbacks sent so far."""
        hooks: dict[str, Any] = self._get("/_emulator/webhooks")
        return hooks

    # -- a browser -------------------------------------------------------------------------------
    def consent(self, http: Session, authorize_url: str, email: str, password: str,
                approve: bool = True, max_steps: int = 12) -> str:
        """Sign in and answer the consent screen like a person, without JavaScript.

        ``authorize_url`` is the emulator's /oauth/authorize URL (or a URL that redirects
        there). Returns the URL the browser is finally sent to off the emulator: the callback
        with ``code`` and ``state``, or with ``error=access_denied``. Raises AssertionError
        when the emulator shows an error page or refuses the password.
        """
        url, method, data = authorize_url, "GET", None
        visited_emulator = url.startswith(self.url)
        signin_tried = False
        for _ in range(max_steps):
            response = http.request(method, url, data=data, allow_redirects=False, timeout=10)
            if response.is_redirect:
                location = urljoin(url, response.headers["Location"])
                if visited_emulator and not location.startswith(self.url):
                    return location
                visited_emulator = visited_emulator or location.startswith(self.url)
                url, method, data = location, "GET", None
                continue
            page = _Forms()
            page.feed(response.text)
            if response.status_code != 200:
                raise AssertionError(
                    f"emulator answered {response.status_code} at {url}: "
                    f"{' '.join(page.alerts) or response.text[:300]}")
            try:
                form, data = _answer(page, email, password, approve, signin_tried)
            except AssertionError as exc:
                raise AssertionError(f"{exc} at {url}: {response.text[:300]}") from None
            signin_tried = signin_tried or "signin-form" in page.forms
            url, method = urljoin(response.url, form["action"]), "POST"
        raise AssertionError("too many steps in the authorize flow")

    def _who(self, researcher: dict[str, Any] | str) -> dict[str, Any]:
        return researcher if isinstance(researcher, dict) else self.researcher(researcher)

    def callback_for(self, client: ClientLike, researcher: dict[str, Any] | str,
                     approve: bool = True, next: str | None = None,
                     connect_path: str = "/orcid/connect") -> str:
        """Start a connection on the host's test ``client`` and answer ORCID's screens; returns
        the callback's path and query (or, when the site skipped ORCID, its redirect)."""
        url = connect_path + (f"?next={quote(next, safe='')}" if next is not None else "")
        response = client.get(url)
        assert response.status_code == 302, response.get_data(as_text=True)
        location = response.headers["Location"]
        if not location.startswith(self.url):
            return str(location)
        who = self._who(researcher)
        with requests.Session() as http:
            callback_url = self.consent(http, location, who["email"], who["password"],
                                        approve=approve)
        parts = urlsplit(callback_url)
        return f"{parts.path}?{parts.query}"

    def authorize(self, client_or_url: ClientLike | str, researcher: dict[str, Any] | str,
                  approve: bool = True, next: str | None = None,
                  connect_path: str = "/orcid/connect") -> Any:
        """Complete ORCID's sign-in and consent as ``researcher`` (a dict from
        :meth:`new_researcher`, or a seeded researcher's email or iD).

        With a Flask test client: ``GET connect_path``, answer the emulator's screens, then
        ``GET`` the callback on the client; returns the site's final response (a refused
        callback's explanation page, or the success redirect). With an authorize URL:
        returns the callback URL ORCID sends the browser to.
        """
        if isinstance(client_or_url, str):
            who = self._who(researcher)
            with requests.Session() as http:
                return self.consent(http, client_or_url, who["email"], who["password"],
                                    approve=approve)
        client = client_or_url
        callback = self.callback_for(client, researcher, approve=approve, next=next,
                                     connect_path=connect_path)
        response = client.get(callback)
        bare = urlsplit(callback).path
        if response.status_code == 302 and response.headers["Location"] == bare:
            # a refused callback shows its explanation at the bare URL, without the code
            response = client.get(bare)
        return response


@pytest.fixture(scope="session")
def orcid_emulator_config() -> dict[str, Any]:
    """Settings for the emulator's ``create_app`` (override in your conftest.py)."""
    return {}


@pytest.fixture(scope="session")
def orcid_emulator_server(orcid_emulator_config: dict[str, Any]) -> Iterator[EmulatorServer]:
    """The emulator on 127.0.0.1 (a free port) in a thread, for the whole test session."""
    app = create_app(dict(orcid_emulator_config))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="orcid-emulator", daemon=True)
    thread.start()
    try:
        yield EmulatorServer(f"http://127.0.0.1:{server.port}", app, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def orcid_emulator(orcid_emulator_server: EmulatorServer) -> Iterator[EmulatorHandle]:
    """The session's emulator, reset to its seed state for this test."""
    handle = EmulatorHandle(orcid_emulator_server)
    handle.reset()
    try:
        yield handle
    finally:
        handle.close()

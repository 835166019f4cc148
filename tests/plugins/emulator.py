"""Emulator fixtures (issue 3): a real ORCID emulator on 127.0.0.1 and a handle to drive it.

``emulator_server`` (session) runs ``flask_orcid.emulator`` in a threaded werkzeug server on a
free port; ``emulator`` (function) resets it to the seed state and returns an
:class:`EmulatorHandle`. Everything goes over real HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from flask_orcid.emulator import create_app

DEMO_CLIENT_ID = "APP-DEMO000000000001"
DEMO_CLIENT_SECRET = "demo-secret-0001"


@dataclass
class EmulatorServer:
    url: str
    app: Flask
    server: BaseWSGIServer


class _Forms(HTMLParser):
    """The forms of a page: id -> {"action", "fields": {name: value}}, buttons apart."""

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


class EmulatorHandle:
    """What a test needs from the emulator: seeded credentials, inspection, knobs, a browser."""

    def __init__(self, server: EmulatorServer):
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
        self._send("POST", "/_emulator/reset")
        self.researchers = self._get("/_emulator/researchers")

    # -- registry --------------------------------------------------------------------------------
    def researcher(self, email_or_orcid: str) -> dict[str, Any]:
        """A seeded (or created) researcher by email or iD."""
        key = email_or_orcid.lower()
        for r in self._get("/_emulator/researchers"):
            if r["orcid"] == email_or_orcid or any(e["email"].lower() == key
                                                   for e in r["emails"]):
                return r
        raise KeyError(f"no researcher {email_or_orcid!r} in the emulator")

    def new_researcher(self, **fields: Any) -> dict[str, Any]:
        """``given_names``, ``family_name``, ``email``, ``password`` and optional extras."""
        created = self._send("POST", "/_emulator/researchers", fields)
        self.researchers = self._get("/_emulator/researchers")
        return created

    def new_client(self, name: str = "Test client", redirect_uris: list[str] | None = None,
                   premium: bool = False) -> dict[str, Any]:
        return self._send("POST", "/_emulator/clients",
                          {"name": name, "redirect_uris": redirect_uris, "premium": premium})

    def record(self, orcid: str) -> dict[str, Any]:
        return self._get(f"/_emulator/records/{orcid}")

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
        return body["revoked"]

    def record_status(self, orcid: str, status: str, primary: str | None = None) -> dict[str, Any]:
        """Lock, deactivate, deprecate or merge a record (``primary``: the record it moved to)."""
        return self._send("POST", f"/_emulator/records/{orcid}/status",
                          {"status": status, "primary": primary})

    # -- knobs -----------------------------------------------------------------------------------
    def fault(self, **spec: Any) -> dict[str, Any]:
        """``method``, ``path`` (regex), ``count``, ``action`` (status|hang|drop|apply_then_fail),
        ``status``, ``retry_after``, ``hang_seconds``, ``then`` ("drop" for apply_then_fail)."""
        return self._send("POST", "/_emulator/faults", spec)

    def clear_faults(self) -> None:
        self._send("DELETE", "/_emulator/faults")

    def limits(self, **kw: Any) -> dict[str, Any]:
        """``rate``, ``burst``, ``latency_ms``."""
        return self._send("PUT", "/_emulator/limits", kw)

    def requests(self) -> dict[str, Any]:
        return self._get("/_emulator/requests")

    def reset_requests(self) -> None:
        self._send("DELETE", "/_emulator/requests")

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock forward (authorization codes expire after 600 s)."""
        self._send("POST", "/_emulator/clock", {"advance": seconds})

    def webhooks(self) -> dict[str, Any]:
        """Registered webhooks and the callbacks sent so far."""
        return self._get("/_emulator/webhooks")

    # -- a browser -------------------------------------------------------------------------------
    def authorize(self, http: requests.Session, authorize_url: str, email: str, password: str,
                  approve: bool = True, max_steps: int = 12) -> str:
        """Sign in and answer the consent screen like a person, without JavaScript.

        ``authorize_url`` is the emulator's /oauth/authorize URL (or a site URL that redirects
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
            if "consent-form" in page.forms:
                form = page.forms["consent-form"]
                data = dict(form["fields"], action="authorize" if approve else "deny")
            elif "signin-form" in page.forms:
                if signin_tried:
                    raise AssertionError(f"sign-in refused for {email}: {' '.join(page.alerts)}")
                signin_tried = True
                form = page.forms["signin-form"]
                data = dict(form["fields"], username=email, password=password)
            elif "register-form" in page.forms:
                form = page.forms["register-form"]
                data = dict(form["fields"], email=email, password=password)
                data["given_names"] = data.get("given_names") or "Test"
            else:
                raise AssertionError(f"unexpected emulator page at {url}: {response.text[:300]}")
            url, method = urljoin(response.url, form["action"]), "POST"
        raise AssertionError("too many steps in the authorize flow")


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    """A real threaded emulator on 127.0.0.1 (free port) for the whole test session."""
    app = create_app({
        "EMULATOR_WEBHOOK_RETRY_DELAY": 0.2,
        "EMULATOR_WEBHOOK_MAX_ATTEMPTS": 3,
    })
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
def emulator(emulator_server: EmulatorServer) -> Iterator[EmulatorHandle]:
    """The emulator reset to its seed state (records, tokens, faults, limits, counters)."""
    handle = EmulatorHandle(emulator_server)
    handle.reset()
    try:
        yield handle
    finally:
        handle.http.close()


class ORCIDSchemas:
    """ORCID's official v3.0 XSDs, picked by the document's root namespace (test-side only)."""

    FILES = {
        "work": "record_3.0/work-3.0.xsd",
        "bulk": "record_3.0/bulk-3.0.xsd",
        "activities": "record_3.0/activities-3.0.xsd",
        "record": "record_3.0/record-3.0.xsd",
        "person": "record_3.0/person-3.0.xsd",
        "error": "record_3.0/error-3.0.xsd",
        "education": "record_3.0/education-3.0.xsd",
        "employment": "record_3.0/employment-3.0.xsd",
        "qualification": "record_3.0/qualification-3.0.xsd",
        "distinction": "record_3.0/distinction-3.0.xsd",
        "invited-position": "record_3.0/invited-position-3.0.xsd",
        "membership": "record_3.0/membership-3.0.xsd",
        "service": "record_3.0/service-3.0.xsd",
    }

    def __init__(self, model_dir: Any):
        self.model_dir = model_dir
        self._cache: dict[str, Any] = {}

    def schema(self, kind: str) -> Any:
        from lxml import etree

        if kind not in self._cache:
            self._cache[kind] = etree.XMLSchema(etree.parse(str(self.model_dir / self.FILES[kind])))
        return self._cache[kind]

    def validate(self, document: bytes) -> Any:
        """Parse ``document`` and assert it is valid; returns the root element."""
        from lxml import etree

        root = etree.fromstring(document, etree.XMLParser(resolve_entities=False,
                                                          no_network=True))
        namespace = etree.QName(root).namespace or ""
        kind = namespace.rsplit("/", 1)[-1]
        schema = self.schema(kind)
        if not schema.validate(root):
            errors = "; ".join(str(e) for e in list(schema.error_log)[:5])
            raise AssertionError(f"{kind} document is not valid against the XSD: {errors}")
        return root


@pytest.fixture(scope="session")
def orcid_schemas(orcid_model_dir: Any) -> ORCIDSchemas:
    """``orcid_schemas.validate(xml_bytes)`` checks a v3.0 document against ORCID's XSD."""
    return ORCIDSchemas(orcid_model_dir)

"""ORCID's side of the check, when ORCID is the local emulator: a test researcher, its
sign-in and consent screens answered like a person would (no JavaScript), and what the
emulator saw and holds afterwards (the record, the tokens, the API requests).

Against the sandbox or production nothing here runs: ORCID's real screens need a person.
The check never prints or logs a token; the one it holds is used only to ask ORCID whether
the token still works after a disconnect.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ..protocol.endpoints import Endpoints
from .html_inspect import parse

__all__ = ["Emulator", "RegistryError"]

TIMEOUT = 10.0


class RegistryError(RuntimeError):
    """The emulator answered something the check did not expect (its text says what)."""


class Emulator:
    """The emulator at ``endpoints.registry``, seen over HTTP."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.url = endpoints.registry.rstrip("/")
        self.api = endpoints.member_api.rstrip("/")
        self.http = requests.Session()
        self.researcher: dict[str, Any] = {}

    def close(self) -> None:
        self.http.close()

    def owns(self, url: str) -> bool:
        return urlsplit(url).netloc == urlsplit(self.url).netloc

    def _json(self, method: str, path: str, payload: Any = None) -> Any:
        try:
            response = self.http.request(method, self.url + path, json=payload, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise RegistryError(f"the emulator at {self.url} did not answer ({exc})") from None
        if response.status_code >= 400:
            raise RegistryError(f"the emulator answered {response.status_code} to {path}")
        return response.json() if response.content else None

    def new_researcher(self) -> dict[str, Any]:
        """A fresh test researcher for this run (the seeded ones stay untouched)."""
        tag = secrets.token_hex(3)
        self.researcher = self._json("POST", "/_emulator/researchers", {
            "given_names": "Check", "family_name": f"Reviewer-{tag}",
            "email": f"orcid-check-{tag}@example.org", "password": secrets.token_urlsafe(12),
        })
        return self.researcher

    def record(self, orcid: str) -> dict[str, Any]:
        found: dict[str, Any] = self._json("GET", f"/_emulator/records/{orcid}")
        return found

    def tokens(self, orcid: str) -> list[dict[str, Any]]:
        """The tokens the emulator issued for ``orcid``, with their status (never values)."""
        response = self.http.get(self.url + "/_emulator/tokens", params={"orcid": orcid},
                                 timeout=TIMEOUT)
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()
        return rows

    def requests_seen(self) -> list[dict[str, Any]]:
        """The emulator's request log (method, path, status; its last 500 requests)."""
        log: list[dict[str, Any]] = self._json("GET", "/_emulator/requests")["log"]
        return log

    def token_works(self, orcid: str, token: str) -> int:
        """The status ORCID answers a read of ``orcid``'s record with ``token``."""
        response = self.http.get(f"{self.api}/{orcid}/record", timeout=TIMEOUT, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.orcid+json"})
        return response.status_code

    def answer(self, browser: requests.Session, authorize_url: str, approve: bool) -> str:
        """Sign in as the test researcher and authorize or deny on the consent screen; returns
        the URL the emulator sends the browser back to (the site's callback)."""
        url, method, data = authorize_url, "GET", None
        for _ in range(10):
            response = browser.request(method, url, data=data, allow_redirects=False,
                                       timeout=TIMEOUT)
            if response.is_redirect:
                location = urljoin(url, response.headers["Location"])
                if not self.owns(location):
                    return location
                url, method, data = location, "GET", None
                continue
            if response.status_code != 200:
                raise RegistryError(f"the emulator answered {response.status_code} at {url}")
            action, data = self._form_answer(response.text, approve)
            url, method = urljoin(response.url, action), "POST"
        raise RegistryError("the emulator's sign-in and consent took too many steps")

    def _form_answer(self, text: str, approve: bool) -> tuple[str, dict[str, str]]:
        doc = parse(text)
        forms = {f.get("id"): f for f in doc.iter("form")}
        for form_id in ("consent-form", "signin-form"):
            form = forms.get(form_id)
            if form is None:
                continue
            fields = {str(i.get("name")): str(i.get("value") or "")
                      for i in form.iter("input") if i.get("name")}
            if form_id == "consent-form":
                fields["action"] = "authorize" if approve else "deny"
            else:
                fields.update(username=self.researcher["email"],
                              password=self.researcher["password"])
            return str(form.get("action") or ""), fields
        raise RegistryError("the emulator showed neither its sign-in nor its consent screen")

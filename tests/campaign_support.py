"""Helpers of the campaign and people tests (issue 16): an SMTP server that refuses some
addresses (bounces) or answers 4xx once (a busy mailbox), a gate that holds one message in
the middle of the SMTP transaction (the moment a crash makes ambiguous), CSV files of past
graduates, the host app's institution settings, and an invitee answering an emailed link."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from flask_orcid.sync import clock
from tests.plugins.mail import SMTPServer, _free_port, link_in

INSTITUTION = {
    "ORCID_INSTITUTION_NAME": "Brown University",
    "ORCID_INSTITUTION_CITY": "Providence",
    "ORCID_INSTITUTION_REGION": "RI",
    "ORCID_INSTITUTION_COUNTRY": "US",
    "ORCID_INSTITUTION_ROR": "https://ror.org/05gq02987",
    "ORCID_INSTITUTION_DOMAINS": "example.edu",
    "ORCID_EXTERNAL_URL": "https://theses.example.edu",
    "ORCID_SITE_NAME": "Brown Theses",
}

HEADER = ["name", "email", "title", "date", "degree", "department", "doi", "handle", "orcid",
          "lang"]


class _Handler:
    """Keeps every message; refuses ``refuse`` addresses for good (550), ``busy`` ones once
    (450); holds the first message to ``hold_for`` in the middle of its transaction (after
    DATA, before the answer) until ``release`` is set, then drops it (451)."""

    def __init__(self, server: CampaignSMTP) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        if address.lower() in self.server.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.lower() in self.server.busy:
            self.server.busy.discard(address.lower())
            return f"450 4.2.1 <{address}>: Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        hold = self.server.hold_for
        if hold is not None and hold in [a.lower() for a in envelope.rcpt_tos]:
            self.server.hold_for = None
            self.server.holding.set()
            while not self.server.release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 The message was dropped"
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        with self.server.lock:
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.server.messages.append(message)  # type: ignore[arg-type]
            self.server.to_headers.append(str(message["To"]).lower())
        return "250 Message accepted"


class CampaignSMTP(SMTPServer):
    def __init__(self, handler: type[_Handler] = _Handler) -> None:
        # (not SMTPServer's: one controller, with this handler or a subclass of it)
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        #: each message's To header, read once (the lookups below run after every step)
        self.to_headers: list[str] = []
        self.port = _free_port()
        self.refuse: set[str] = set()
        self.busy: set[str] = set()
        self.hold_for: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.controller = Controller(handler(self), hostname="127.0.0.1", port=self.port)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m, to in zip(self.messages, self.to_headers, strict=True)
                    if to == address.lower()]

    def per_address(self) -> Counter[str]:
        with self.lock:
            return Counter(self.to_headers)


@pytest.fixture
def campaign_smtp() -> Iterator[CampaignSMTP]:
    server = CampaignSMTP()
    server.start()
    yield server
    server.release.set()
    server.stop()


def graduates_csv(rows: list[dict[str, Any]], header: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or HEADER, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def graduate(n: int, **changes: Any) -> dict[str, Any]:
    row = {"name": f"Grad{n:03d} Person", "email": f"grad{n:03d}@alumni.example.org",
           "title": f"Essays on topic {n}", "date": f"{2000 + n % 20}-05",
           "degree": "PhD in History", "department": "Department of History",
           "doi": f"10.5555/etd.{n}", "handle": "", "orcid": "", "lang": ""}
    row.update(changes)
    return row


@contextmanager
def fake_clock(monkeypatch: pytest.MonkeyPatch, start: datetime | None = None
               ) -> Iterator[list[datetime]]:
    """The engine's clock stopped at ``start`` (default now); move it with ``now[0] = …``."""
    now = [start or clock.utcnow()]
    monkeypatch.setattr(clock, "utcnow", lambda: now[0])
    yield now


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def answer(client: Any, emulator: Any, link: str, who: Any, *, add_work: bool,
           approve: bool = True) -> Any:
    """Open the emailed link, press "Continue to ORCID" (ticking the thesis box or not),
    answer ORCID's screens as ``who`` and follow the callback; the final response."""
    page = client.get(path_of(link))
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    data = {"csrf_token": csrf(page.get_data(as_text=True))}
    if add_work:
        data["add_work"] = "yes"
    response = client.post(path_of(link) + "/start", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    callback = emulator.authorize(response.headers["Location"], who, approve=approve)
    response = client.get(path_of(callback))
    if response.status_code == 302:
        response = client.get(response.headers["Location"])
    return response


def last_link(smtp: CampaignSMTP, address: str) -> str:
    messages = smtp.to(address)
    assert messages, f"no message to {address}"
    return link_in(messages[-1])


__all__ = ["INSTITUTION", "CampaignSMTP", "answer", "campaign_smtp", "csrf", "fake_clock",
           "graduate", "graduates_csv", "last_link", "path_of"]

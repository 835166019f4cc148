"""Helpers of the invitation tests (issue 15): a host app that may invite, an invitee who
follows the emailed link through the emulator's screens, a fake clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from flask_orcid import ExternalId, FuzzyDate, Work
from flask_orcid.sync import clock
from tests.plugins.mail import link_in

SUPERVISION = "http://credit.niso.org/contributor-roles/supervision/"


def supervision_work(invitation: Any) -> Work:
    """The work a host publishes to an opted-in invitee: the invitee as supervisor."""
    from flask_orcid import Contributor

    return Work(
        title=invitation.subject_title or "A thesis",
        type="dissertation-thesis",
        publication_date=FuzzyDate(2026, 6),
        external_ids=[ExternalId("handle", f"20.500.12345/{invitation.subject}", "self",
                                 f"https://hdl.handle.net/20.500.12345/{invitation.subject}")],
        contributors=[Contributor(credit_name=invitation.name, orcid=invitation.orcid,
                                  sequence="additional", role=SUPERVISION)],
    )


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def start(client: Any, link: str, add_work: bool = False) -> Any:
    """Open the emailed link, then press "Continue to ORCID"; the response of the POST."""
    page = client.get(path_of(link))
    assert page.status_code == 200, page.get_data(as_text=True)
    data = {"csrf_token": csrf(page.get_data(as_text=True))}
    if add_work:
        data["add_work"] = "yes"
    return client.post(path_of(link) + "/start", data=data)


def answer(client: Any, emulator: Any, link: str, who: Any, *, add_work: bool = False,
           approve: bool = True) -> Any:
    """Follow the link, answer ORCID's screens as ``who``, and GET the callback; the final
    page (following the redirect to the invitation's page)."""
    response = start(client, link, add_work=add_work)
    assert response.status_code == 302, response.get_data(as_text=True)
    callback = emulator.authorize(response.headers["Location"], who, approve=approve)
    response = client.get(path_of(callback))
    if response.status_code == 302:
        response = client.get(response.headers["Location"])
    return response


def authorize_params(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def link_of(smtp: Any, index: int = -1, count: int | None = None) -> str:
    messages = smtp.wait(count or (index + 1 if index >= 0 else 1))
    return link_in(messages[index])


@contextmanager
def clock_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> Iterator[list[datetime]]:
    """The engine's clock (``flask_orcid.sync.clock.utcnow``) stopped at ``moment``; move it
    by assigning ``now[0]``."""
    now = [moment]
    monkeypatch.setattr(clock, "utcnow", lambda: now[0])
    yield now


def later(days: float) -> datetime:
    return clock.utcnow() + timedelta(days=days)


def emulator_tokens(emulator: Any, orcid_id: str) -> list[dict[str, Any]]:
    return [t for t in emulator.tokens(orcid=orcid_id) if t["client_id"] == emulator.client_id]


def public_works(emulator: Any, orcid_id: str) -> list[dict[str, Any]]:
    record = emulator.record(orcid_id)
    works: list[dict[str, Any]] = record.get("works") or []
    return works


__all__ = ["SUPERVISION", "answer", "authorize_params", "clock_at", "csrf", "emulator_tokens",
           "later", "link_of", "path_of", "public_works", "requests", "start",
           "supervision_work"]

"""A real SMTP server in the test process (aiosmtpd), for the email tests (issue 15).

``smtp_server`` runs one on 127.0.0.1 (a free port) for the test: ``.port``, ``.messages``
(parsed :class:`email.message.EmailMessage` objects, in arrival order), ``.envelopes``
(sender and recipients as the server saw them), ``.wait(n)`` (polls until ``n`` messages
arrived) and ``.config()`` (the ``ORCID_MAIL_*`` settings that point a site at it).
``smtp_server_factory(**controller_kwargs)`` makes others (one that requires a login).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

__all__ = ["SMTPServer", "link_in"]


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        with self.server.lock:
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.server.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SMTPServer:
    """aiosmtpd's Controller around a handler that keeps every message."""

    def __init__(self, **controller_kwargs: Any) -> None:
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.port = _free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     **controller_kwargs)

    def start(self) -> SMTPServer:
        self.controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        """Stop it (a test may stop it early: a mail server that is down)."""
        if getattr(self, "running", False):
            self.controller.stop()
            self.running = False

    def config(self, **extra: Any) -> dict[str, Any]:
        return {"ORCID_MAIL_BACKEND": "smtp", "ORCID_MAIL_HOST": "127.0.0.1",
                "ORCID_MAIL_PORT": self.port, "ORCID_MAIL_SENDER": "Theses <etd@example.edu>",
                **extra}

    def wait(self, count: int = 1, seconds: float = 10.0) -> list[EmailMessage]:
        """The messages once at least ``count`` arrived (a poll, not a fixed sleep)."""
        deadline = time.monotonic() + seconds
        while True:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")
            time.sleep(0.05)


def link_in(message: EmailMessage, marker: str = "/invitations/") -> str:
    """The invitation link of a received message, read from its plain-text part."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "the message has no text part"
    text = body.get_content()  # type: ignore[attr-defined]
    links = [word for word in text.split() if marker in word and word.startswith("http")]
    assert len(links) == 1, text
    return str(links[0])


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., SMTPServer]]:
    servers: list[SMTPServer] = []

    def factory(**controller_kwargs: Any) -> SMTPServer:
        server = SMTPServer(**controller_kwargs).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: Callable[..., SMTPServer]) -> SMTPServer:
    return smtp_server_factory()

"""Sending email: a plain-text and an HTML part, through SMTP or into a local folder.

``ORCID_MAIL_BACKEND = "smtp"`` talks to ``ORCID_MAIL_HOST``:``ORCID_MAIL_PORT`` (STARTTLS
with ``ORCID_MAIL_USE_STARTTLS``, TLS from the first byte with ``ORCID_MAIL_USE_SSL``, logging
in when ``ORCID_MAIL_USERNAME`` is set). ``"folder"`` keeps each message as an ``.eml`` file in
``ORCID_MAIL_FOLDER`` (default ``<instance>/mailbox``): the demo runs without a mail server and
shows the messages on a page (:func:`read_folder`). The password is never logged.
"""

from __future__ import annotations

import functools
import logging
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, localtime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from flask import current_app

from .errors import ConfigurationError, ORCIDError

__all__ = ["MailError", "MailRefused", "StoredMessage", "build_message", "mail_folder",
           "read_folder", "send_mail"]

log = logging.getLogger(__name__)

BACKENDS = ("smtp", "folder")


class MailError(ORCIDError):
    """The message could not be handed to the mail server (the text says why, no secrets)."""


class MailRefused(MailError):
    """The mail server refused the recipient for good (a 5xx answer): the address bounces.
    ``code`` is the server's reply code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _sender(cfg: Any) -> str:
    sender = cfg.get("ORCID_MAIL_SENDER")
    if not sender:
        raise ConfigurationError(
            "Set ORCID_MAIL_SENDER to the address invitations come from, for example "
            "'Graduate School <etd@example.edu>'.")
    return str(sender)


def build_message(to: str, subject: str, text: str, html: str | None = None, *,
                  sender: str | None = None, reply_to: str | None = None,
                  lang: str | None = None) -> EmailMessage:
    """A ``multipart/alternative`` message: the text part first, the HTML part second."""
    message = EmailMessage()
    message["From"] = sender or _sender(current_app.config)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(localtime())
    domain = parseaddr(message["From"])[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)  # (clears Content-* headers: the language goes after it)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if lang:
        message["Content-Language"] = lang
    return message


def send_mail(message: EmailMessage) -> None:
    """Hand ``message`` to the configured backend; :class:`MailError` when that fails."""
    cfg = current_app.config
    backend = cfg.get("ORCID_MAIL_BACKEND") or "smtp"
    if backend not in BACKENDS:
        raise ConfigurationError(f"ORCID_MAIL_BACKEND must be one of {', '.join(BACKENDS)}.")
    if backend == "folder":
        _to_folder(message, mail_folder())
    else:
        _to_smtp(message, cfg)
    log.info("sent a message to %s", message["To"])


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the system's certificates takes tens
    of milliseconds, too much for every message of a campaign."""
    return ssl.create_default_context()


def _to_smtp(message: EmailMessage, cfg: Any) -> None:
    host, port = str(cfg["ORCID_MAIL_HOST"]), int(cfg["ORCID_MAIL_PORT"])
    timeout = float(cfg["ORCID_MAIL_TIMEOUT"])
    try:
        smtp: smtplib.SMTP
        if cfg.get("ORCID_MAIL_USE_SSL"):
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if cfg.get("ORCID_MAIL_USE_STARTTLS") and not cfg.get("ORCID_MAIL_USE_SSL"):
                smtp.starttls(context=_tls_context())
            if cfg.get("ORCID_MAIL_USERNAME"):
                smtp.login(str(cfg["ORCID_MAIL_USERNAME"]), str(cfg.get("ORCID_MAIL_PASSWORD")
                                                                 or ""))
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise MailError("The mail server refused the configured user name and password "
                        "(ORCID_MAIL_USERNAME, ORCID_MAIL_PASSWORD).") from None
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        if 500 <= code < 600:
            raise MailRefused(f"The mail server refused the address {message['To']} ({code} "
                              f"{text[:200]}).", code) from None
        raise MailError(f"The mail server refused the address {message['To']} for now ({code} "
                        f"{text[:200]}).") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"The mail server {host}:{port} could not take the message "
                        f"({type(exc).__name__}).") from None


def mail_folder() -> Path:
    """Where the ``folder`` backend keeps messages."""
    configured = current_app.config.get("ORCID_MAIL_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "mailbox"


def _to_folder(message: EmailMessage, folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # a name that sorts by time of arrival, then a random part
        name = f"{localtime().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.eml"
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(message.as_bytes(policy=policy.SMTP))
    except OSError as exc:
        raise MailError(f"The message could not be written to {folder} "
                        f"({type(exc).__name__}).") from None


@dataclass(frozen=True)
class StoredMessage:
    """A message of the ``folder`` backend, as the demo mailbox shows it."""

    id: str
    sender: str
    to: str
    subject: str
    date: str
    text: str
    html: str | None


def _parse(path: Path) -> StoredMessage:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    return StoredMessage(
        id=path.stem, sender=str(message["From"] or ""), to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""), date=str(message["Date"] or ""),
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else None,
    )


def read_folder(folder: Path | None = None, *, message_id: str | None = None,
                limit: int = 200) -> list[StoredMessage]:
    """The messages of the ``folder`` backend, newest first (one, with ``message_id``)."""
    folder = folder or mail_folder()
    if not folder.is_dir():
        return []
    if message_id is not None:
        path = folder / f"{message_id}.eml"
        # only a bare name of this folder: never a path chosen by a visitor
        if Path(message_id).name != message_id or not path.is_file():
            return []
        return [_parse(path)]
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_parse(p) for p in paths]

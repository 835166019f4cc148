"""The demo's mailbox (issue 15): the invitation emails ``make demo`` keeps on this machine
(flask-orcid's ``folder`` mail backend), so a visitor can read them and follow their links
without a mail server. Only against the emulator: on a real site every page here is a 404."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template

from flask_orcid.mail import read_folder

bp = Blueprint("mailbox", __name__, url_prefix="/demo/mailbox")

_LINK = re.compile(r"(https?://[^\s<>\"]+)")


def _enabled() -> None:
    cfg = current_app.config
    if cfg.get("ORCID_MAIL_BACKEND") != "folder" or cfg.get("ORCID_ENVIRONMENT") != "emulator":
        abort(404)


def linked(text: str) -> list[tuple[str, bool]]:
    """The text in pieces: (piece, is_link), so the template escapes each one and links only
    the web addresses."""
    pieces = _LINK.split(text)
    return [(piece, index % 2 == 1) for index, piece in enumerate(pieces) if piece]


@bp.route("/")
def inbox():
    _enabled()
    return render_template("demo/mailbox.html", messages=read_folder(), message=None)


@bp.route("/<message_id>")
def message(message_id: str):
    _enabled()
    found = read_folder(message_id=message_id)
    if not found:
        abort(404)
    return render_template("demo/mailbox.html", messages=read_folder(), message=found[0],
                           body=linked(found[0].text))

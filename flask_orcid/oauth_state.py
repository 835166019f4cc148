"""The OAuth ``state`` of sign-ins in flight, and the ``lang`` ORCID's screens understand.

``state`` is random, single-use, kept in the (signed) session with a timestamp and the user it
was issued to; several flows may be in flight at once (bounded).
"""

from __future__ import annotations

import json
import time
from typing import Any

from babel import Locale
from flask import current_app, session

from .i18n import gettext as _
from .page_errors import StateError
from .safety import safe_next

__all__ = ["MAX_NEXT_IN_SESSION", "MAX_STATES", "MAX_STATES_BYTES", "ORCID_LANGUAGES", "orcid_lang", "remember_state", "take_state"]

_STATES = "_orcid_states"
#: how many sign-ins may be in flight in one browser (tabs); the oldest is dropped beyond
MAX_STATES = 5
#: the longest ``next`` kept for a flow (a longer one falls back to the default page), and
#: the most the flows may take in the session together: browsers drop cookies over 4 KB,
#: and with them the sign-in
MAX_NEXT_IN_SESSION = 512
MAX_STATES_BYTES = 2048

#: ORCID's screen languages (API-FACTS §2.1 ``lang``)
ORCID_LANGUAGES = frozenset(
    "ar cs en es fr de it ja ko pl pt ru tr zh_CN zh_TW".split()
)


def orcid_lang(locale: Locale | str | None) -> str | None:
    """The ``lang`` value ORCID understands for ``locale``, or None when ORCID lacks it."""
    if locale is None:
        return None
    if isinstance(locale, str):
        try:
            locale = Locale.parse(locale.replace("-", "_"))
        except (ValueError, TypeError):
            return None
    language = locale.language
    if language == "zh":
        traditional = locale.script == "Hant" or locale.territory in ("TW", "HK", "MO")
        return "zh_TW" if traditional else "zh_CN"
    return language if language in ORCID_LANGUAGES else None


def remember_state(state: str, next_url: str | None, user_key: str | None, nonce: str | None,
                   invitation: dict[str, Any] | None = None,
                   inbox: str | None = None) -> None:
    """Keep ``state`` for the callback; ``invitation`` marks a sign-in that answers an
    invitation (its id and the invitee's choices); ``inbox`` is the token of the ORCID inbox
    permission request the flow answers (:mod:`.inbox_flow`), if any."""
    states = dict(session.get(_STATES) or {})
    if next_url is not None and len(next_url) > MAX_NEXT_IN_SESSION:
        next_url = None
    states[state] = {"t": time.time(), "next": next_url, "user": user_key, "nonce": nonce}
    if invitation is not None:
        states[state]["inv"] = invitation
    if inbox is not None:
        states[state]["inbox"] = inbox
    oldest_first = sorted(states, key=lambda s: states[s]["t"])
    while len(states) > 1 and (len(states) > MAX_STATES
                               or len(json.dumps(states)) > MAX_STATES_BYTES):
        del states[oldest_first.pop(0)]
    session[_STATES] = states


def take_state(state: str | None) -> dict[str, Any] | None:
    """Remove ``state`` from the session and return its entry; None when unknown.

    Raises StateError when it is known but expired.
    """
    if not state or not isinstance(state, str):
        return None
    states = dict(session.get(_STATES) or {})
    entry = states.pop(state, None)
    session[_STATES] = states
    if entry is None:
        return None
    max_age = int(current_app.config["ORCID_STATE_MAX_AGE"])
    if time.time() - entry.get("t", 0) > max_age:
        raise StateError(
            _("You took longer than %(minutes)d minutes to come back from ORCID, so this "
              "sign-in has expired. Nothing was stored. Please start again.",
              minutes=max(max_age // 60, 1)),
            next_url=safe_next(entry.get("next")),
        )
    return entry

"""Why a campaign person is where they are: the reasons the extension itself writes.

A person's ``reason`` is stored in English, as the CSV export, ``flask orcid campaign`` and the
logs give it. Each of our own reasons is a :class:`Reason`, a template with named values, so
the campaign page can tell which one a stored text is and show it in the reader's language
(:func:`recognize`); the ``detail`` value of a template (what a mail server or ORCID said) stays
as it came. Any other text (a bounce reason a host passed, a reason stored by an older version)
is shown as it is, marked English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BOUNCE_REPORTED",
    "CANCELLED",
    "EXPIRED",
    "GAVE_UP",
    "NOT_ADDED",
    "NOT_TAKEN",
    "REASONS",
    "UNCONFIRMED",
    "WITHDRAWN",
    "Reason",
    "recognize",
]


#: what each value may hold, so a stored text reads back one way only (the free text, what a
#: mail server or ORCID said, is always last)
_VALUE = {"tries": r"\d+", "date": r"\d{4}-\d{2}-\d{2}", "item": r"[a-z-]+", "detail": r".*"}


@dataclass(frozen=True)
class Reason:
    """One reason: a code, and its English text with ``{name}`` placeholders."""

    code: str
    english: str
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = re.split(r"\{(\w+)\}", self.english)
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_VALUE[part]})"
                        for i, part in enumerate(parts))
        object.__setattr__(self, "_pattern", re.compile(regex + r"\Z", re.DOTALL))

    def text(self, **values: Any) -> str:
        """The stored (English) text with ``values`` filled in."""
        return self.english.format(**values)

    def values_in(self, text: str) -> dict[str, str] | None:
        """The values of ``text`` if it is this reason, else None."""
        match = self._pattern.match(text)
        return match.groupdict() if match else None


UNCONFIRMED = Reason(
    "unconfirmed",
    "The run stopped while this email was being handed to the mail server, so it may not have "
    "arrived; it was not sent again. The next reminder carries a new link.")
BOUNCE_REPORTED = Reason("bounce-reported", "A bounce was reported for this address.")
GAVE_UP = Reason("gave-up", "The email could not be sent after {tries} tries: {detail}")
NOT_ADDED = Reason(
    "not-added", "iD confirmed; the person did not let the site add the thesis to their record.")
WITHDRAWN = Reason(
    "withdrawn", "iD confirmed; the person has since withdrawn the site's permission.")
EXPIRED = Reason("expired", "No answer: the last link expired on {date}.")
CANCELLED = Reason("cancelled", "The invitation was cancelled.")
NOT_TAKEN = Reason("not-taken", "ORCID did not take the {item}: {detail}")

REASONS = (UNCONFIRMED, BOUNCE_REPORTED, GAVE_UP, NOT_ADDED, WITHDRAWN, EXPIRED, CANCELLED,
           NOT_TAKEN)


def recognize(text: str | None) -> tuple[Reason, dict[str, str]] | None:
    """Which of our reasons ``text`` is, with its values; None for any other text."""
    if not text:
        return None
    for reason in REASONS:
        values = reason.values_in(text)
        if values is not None:
            return reason, values
    return None

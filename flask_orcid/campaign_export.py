"""The status CSV of a campaign (the admin page's export and ``flask orcid campaign export``):
one line per person, in the order of the uploaded file, with what happened to them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

__all__ = ["EXPORT_COLUMNS", "csv_cell", "status_csv"]

EXPORT_COLUMNS = ("line", "key", "name", "email", "title", "date", "status", "reason", "orcid",
                  "emails_sent", "reminders_sent", "last_sent_at", "answered_at",
                  "delivered_at")


def csv_cell(value: Any) -> str:
    """One cell of an export an admin opens in a spreadsheet: text that would start a formula
    (names and emails come from CSV uploads and from ORCID's public data) gets a quote first."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return f"{value.isoformat(timespec='seconds')}Z"
    text = str(value)
    # a spreadsheet must not run a cell as a formula (CSV injection)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def status_csv(people: Iterable[Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for p in people:
        writer.writerow([csv_cell(v) for v in (
            p.line, p.person_key, p.name, p.email, p.title, p.date, p.status, p.reason,
            p.orcid, p.emails_sent, p.reminders_sent, p.last_sent_at, p.answered_at,
            p.delivered_at)])
    return out.getvalue()

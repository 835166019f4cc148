"""Which item on the record is the one a row wants: the keys reconciliation adopts by.

A work is matched by its normalized ``self`` external ids (those of earlier payloads too).
An affiliation has nothing ORCID would collide on, so it is matched by what makes it the
same degree or position: the organization (its disambiguated id, else its normalized name
and country), the role title, the department and the start and end dates. Only items whose
source is this client are ever candidates (the caller filters the summaries).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from ..protocol.model import Affiliation
from ..protocol.records import AffiliationSummary
from ..protocol.values import FuzzyDate, Organization

__all__ = ["MatchKey", "affiliation_key", "item_keys", "normalize_text", "summary_keys"]

#: ``(type, value)`` for a ``self`` id; ``("affiliation", …)`` for an affiliation's fields
MatchKey = tuple[str, ...]


def normalize_text(text: str | None) -> str:
    """Case, accents and spacing ignored: ``" Université  de X"`` ~ ``"universite de x"``."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(plain.split())


def _organization(org: Organization | None) -> tuple[str, ...]:
    if org is None:
        return ("",)
    if org.disambiguated_id:
        return ("id", normalize_text(org.disambiguated_id).rstrip("/"))
    return ("name", normalize_text(org.name), (org.country or "").strip().upper())


def _date(value: FuzzyDate | None) -> str:
    return str(value) if value is not None else ""


def affiliation_key(item: Affiliation | AffiliationSummary) -> MatchKey:
    """The fields that make two affiliations the same one."""
    return ("affiliation", *_organization(item.organization), normalize_text(item.role_title),
            normalize_text(item.department), _date(item.start_date), _date(item.end_date))


def item_keys(item: Any) -> set[MatchKey]:
    """The keys a row's item (a ``Work`` or an ``Affiliation``) is found on the record by."""
    keys: set[MatchKey] = set(item.self_ids())
    if isinstance(item, Affiliation):
        keys.add(affiliation_key(item))
    return keys


def summary_keys(summary: Any) -> set[MatchKey]:
    """The keys of one summary read from the record (a work's or an affiliation's)."""
    if isinstance(summary, AffiliationSummary):
        return {affiliation_key(summary)}
    ids = getattr(summary, "self_ids", None)
    return set(ids()) if callable(ids) else set()

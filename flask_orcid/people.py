"""Who should connect (issue 16, item 1): the host's people with their state here, and the
record holders ORCID's public search finds at the institution who have not connected.

The search asks ORCID's ``expanded-search`` for the institution's ROR id, email domains and
name (``ORCID_INSTITUTION_ROR``, ``..._DOMAINS``, ``..._NAME``), page by page inside
ORCID's limits (:meth:`~flask_orcid.protocol.institution_calls.InstitutionCalls.
iter_expanded_search`), with the client's ``/read-public`` token. Only what record holders made
public is found: a link to the institution they keep limited or private is not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from .errors import ConfigurationError
from .protocol.search import ExpandedResult, institution_query
from .state import get_state
from .sync import directory
from .sync.directory import InstitutionPerson, PersonState
from .sync.record_reader import public_tokens

__all__ = ["RecordHolder", "people_states", "record_holders", "search_query"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordHolder:
    """A search hit not connected here: the iD, a display name, the public emails, and the
    host's person with that iD or email (when there is one)."""

    orcid: str
    name: str
    emails: list[str]
    institutions: list[str]
    person: InstitutionPerson | None


def _ext() -> Any:
    return get_state().extension


def search_query() -> str:
    """The institution's query, from the ``ORCID_INSTITUTION_*`` settings."""
    cfg = current_app.config
    names = [cfg["ORCID_INSTITUTION_NAME"]] if cfg.get("ORCID_INSTITUTION_NAME") else []
    try:
        return institution_query(ror=cfg.get("ORCID_INSTITUTION_ROR") or None, names=names,
                                 email_domains=list(_ext().institution_domains()))
    except ValueError:
        raise ConfigurationError(
            "Set ORCID_INSTITUTION_ROR, ORCID_INSTITUTION_DOMAINS or "
            "ORCID_INSTITUTION_NAME so ORCID's search can find the institution's people."
        ) from None


def people_states(people: Iterable[InstitutionPerson]) -> list[PersonState]:
    ext = _ext()
    return directory.states(ext.db.session, ext._models(), people)


def _name(hit: ExpandedResult) -> str:
    name = " ".join(p for p in (hit.given_names, hit.family_names) if p)
    return hit.credit_name or name or hit.orcid


def record_holders(people: Iterable[InstitutionPerson] = ()) -> list[RecordHolder]:
    """The search's record holders whose iD is neither connected here nor proved through an
    invitation; each matched to a host person by typed iD or email when possible."""
    ext = _ext()
    client = ext.api_client()
    query = search_query()
    limit = int(current_app.config["ORCID_INSTITUTION_SEARCH_LIMIT"])
    known = directory.known_orcids(ext.db.session, ext._models())
    by_orcid = {p.orcid: p for p in people if p.orcid}
    by_email = {p.email.lower(): p for p in people if p.email}
    token = public_tokens.get(client)
    found = []
    for hit in client.iter_expanded_search(query, token, limit=limit):
        if hit.orcid in known:
            continue
        person = by_orcid.get(hit.orcid) or next(
            (by_email[e.lower()] for e in hit.emails if e.lower() in by_email), None)
        found.append(RecordHolder(hit.orcid, _name(hit), list(hit.emails),
                                  list(hit.institution_names), person))
    log.info("ORCID's search found %d record holders not connected here", len(found))
    return found

"""The search index: one document per record, built from its public data only, and matching.

ORCID's indexer reads each record through the public API and indexes what it returns
(``ORCID-Source: orcid-message-listener/src/main/java/org/orcid/listener/solr/
SolrMessageProcessor.java:69``, ``OrcidRecordToSolrDocument.java:70-688``), so a limited or
private email, affiliation or work is never searchable, and locked or deactivated records are
dropped from the index (``SolrMessageProcessor.java:71-76``, ``:93-95``).

Fields (``orcid-core/src/main/java/org/orcid/core/solr/SolrConstants.java:11-114``): names,
emails, the organization name and disambiguated ids of the seven affiliation sections
(``OrcidRecordToSolrDocument.java:476-640``; current/past split ``:817-850``), public work
titles and ``self`` ids. Text fields are tokenized and lower-cased; only
``given-and-family-names`` also folds diacritics (the tutorial, ``orcid-api-web/tutorial/
search.md``: "Only the given-and-family-names field will match characters with and without
diacritics"); id fields (orcid, email, ``*-org-id``) match the whole value.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import re
import unicodedata
from typing import Any

from .search_query import Clause, Node, Term
from .state import AFFILIATION_SECTIONS, Researcher

__all__ = ["Document", "build_document", "matches"]

#: field name -> values; ``_text`` gathers everything for bare terms
Document = dict[str, list[str]]

#: fields matched as whole values (Solr string fields), the rest are tokenized text
_STRING_FIELDS = {"orcid", "email", "ror-org-id", "grid-org-id", "ringgold-org-id",
                  "fundref-org-id"}
_ORG_ID_FIELDS = {"ROR": "ror-org-id", "GRID": "grid-org-id", "RINGGOLD": "ringgold-org-id",
                  "FUNDREF": "fundref-org-id"}
_WORD = re.compile(r"[^\W_]+(?:[.'][^\W_]+)*", re.UNICODE)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _tokens(text: str, fold: bool = False) -> list[str]:
    text = text.lower()
    return _WORD.findall(_fold(text) if fold else text)


def _is_current(end: dict[str, Any] | None, today: _dt.date) -> bool:
    """OrcidRecordToSolrDocument.java:817-850: no end year, or an end not yet passed."""
    if not end or not end.get("year"):
        return True
    year, month, day = int(end["year"]), end.get("month"), end.get("day")
    if year != today.year:
        return year > today.year
    if not month or int(month) > today.month:
        return True
    if int(month) < today.month:
        return False
    return not day or int(day) > today.day


def _affiliations(doc: Document, researcher: Researcher, today: _dt.date) -> None:
    for section in AFFILIATION_SECTIONS:
        for item in researcher.items.get(section, {}).values():
            if item.visibility != "public":
                continue
            org = item.data.get("organization") or {}
            name = org.get("name")
            if name:
                doc["affiliation-org-name"].append(name)
                key = ("current-institution-affiliation-name"
                       if _is_current(item.data.get("end_date"), today)
                       else "past-institution-affiliation-name")
                doc[key].append(name)
            field = _ORG_ID_FIELDS.get(str(org.get("disambiguation_source") or "").upper())
            if field and org.get("disambiguated_id"):
                doc[field].append(str(org["disambiguated_id"]))


def _works(doc: Document, researcher: Researcher) -> None:
    for item in researcher.items.get("work", {}).values():
        if item.visibility != "public":
            continue
        if item.data.get("title"):
            doc["work-titles"].append(item.data["title"])
        for ext in item.data.get("external_ids", []):
            doc["digital-object-ids" if ext["type"] == "doi" else "external-id-reference"]\
                .append(ext["value"])
            if ext.get("relationship") == "self":
                doc.setdefault(f"{ext['type']}-self", []).append(ext["value"])


def build_document(researcher: Researcher, today: _dt.date) -> Document | None:
    """The public index document of ``researcher``; None when the record is not indexed."""
    if researcher.status not in ("active",):
        return None
    fields = ("orcid", "given-names", "family-name", "given-and-family-names", "credit-name",
              "other-names", "email", "biography", "affiliation-org-name",
              "current-institution-affiliation-name", "past-institution-affiliation-name",
              "work-titles", "digital-object-ids", "external-id-reference",
              *_ORG_ID_FIELDS.values())
    doc: Document = {name: [] for name in fields}
    doc["orcid"].append(researcher.orcid)
    if researcher.name_visibility == "public":
        doc["given-names"].append(researcher.given_names)
        if researcher.family_name:
            doc["family-name"].append(researcher.family_name)
        doc["given-and-family-names"].append(researcher.display_name)
        if researcher.credit_name:
            doc["credit-name"].append(researcher.credit_name)
        doc["other-names"].extend(researcher.other_names)
        if researcher.biography:
            doc["biography"].append(researcher.biography)
    doc["email"].extend(e.email for e in researcher.emails if e.visibility == "public")
    _affiliations(doc, researcher, today)
    _works(doc, researcher)
    doc["_text"] = [v for values in list(doc.values()) for v in values]
    return doc


def _value_matches(field: str, term: Term, values: list[str]) -> bool:
    wanted = term.value
    if field in _STRING_FIELDS:
        if field == "email":
            wanted, values = wanted.lower(), [v.lower() for v in values]
        if term.phrase or not any(ch in wanted for ch in "*?"):
            return wanted in values
        return any(fnmatch.fnmatchcase(v, wanted) for v in values)
    fold = field == "given-and-family-names"
    query_tokens = _tokens(wanted, fold)
    if not query_tokens:
        return False
    for value in values:
        tokens = _tokens(value, fold)
        if term.phrase or len(query_tokens) > 1:
            width = len(query_tokens)
            if any(tokens[i:i + width] == query_tokens for i in range(len(tokens))):
                return True
        elif any(ch in wanted for ch in "*?"):
            pattern = _fold(wanted.lower()) if fold else wanted.lower()
            if any(fnmatch.fnmatchcase(t, pattern) for t in tokens):
                return True
        elif query_tokens[0] in tokens:
            return True
    return False


def _term_matches(term: Term, doc: Document) -> bool:
    field = term.field or "text"
    if field == "text":
        field = "_text"
    values = doc.get(field)
    if not values:
        return False
    if term.value == "*" and not term.phrase:
        return True
    return _value_matches(field, term, values)


def matches(node: Node, doc: Document) -> bool:
    """Whether ``doc`` satisfies the query tree ``node``."""
    if isinstance(node, Term):
        return _term_matches(node, doc)
    if any(matches(child, doc) for child in node.prohibited):
        return False
    if not all(matches(child, doc) for child in node.required):
        return False
    if node.should:
        # With required members, optional ones only score (Lucene); alone, one must match.
        return bool(node.required) or any(matches(child, doc) for child in node.should)
    return bool(node.required) or (bool(node.prohibited) and _is_pure_negation(node))


def _is_pure_negation(node: Clause) -> bool:
    """``-field:x`` alone: Solr's standard parser matches everything else in that case."""
    return not node.should and not node.required

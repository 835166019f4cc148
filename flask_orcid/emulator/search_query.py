"""The part of Solr's standard (Lucene) query syntax ORCID's search users rely on.

ORCID passes ``q`` straight to Solr (``ORCID-Source: orcid-core/src/main/java/org/orcid/core/
solr/OrcidSolrProfileClient.java:98-110``; the tutorial: "All query syntaxes available in SOLR
8.0 are supported", ``orcid-api-web/tutorial/search.md``). The emulator understands:

- ``field:value``, ``field:"a phrase"``, ``field:(a OR "b c")``, bare terms (the ``text`` field);
- ``AND``, ``OR``, ``NOT`` (upper case only, as in Lucene), ``+term``, ``-term``, parentheses;
  terms side by side are OR'ed (Lucene's default operator; ORCID's ``q.op`` is UNCONFIRMED);
- ``*`` and ``?`` wildcards in unquoted values (``email:*@example.edu``), ``field:*``;
- backslash escapes (``issn\\:1741-4857``).

Parsing yields a small tree; :func:`matches` evaluates it against a document (a dict of field
name -> list of strings) with :mod:`.search_index`'s analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Clause", "Node", "QuerySyntaxError", "Term", "parse_query"]


class QuerySyntaxError(ValueError):
    """``q`` is not a query Solr would accept."""


@dataclass(frozen=True)
class Term:
    """One ``field:value``; ``phrase`` for a quoted value, ``field`` None for the default."""

    field: str | None
    value: str
    phrase: bool = False


@dataclass(frozen=True)
class Clause:
    """A boolean group: ``op`` is ``"AND"`` or ``"OR"``; ``required``/``prohibited`` hold the
    ``+``/``-`` (and ``NOT``) members, which apply whatever ``op`` is."""

    op: str
    should: tuple[Node, ...]
    required: tuple[Node, ...] = ()
    prohibited: tuple[Node, ...] = ()


Node = Term | Clause

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<quoted>"(?:[^"\\]|\\.)*") |
        (?P<word>(?:\\.|[^\s()"])+)
    )""",
    re.VERBOSE,
)


def _tokens(query: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        match = _TOKEN.match(query, pos)
        if match is None or match.end() == pos:
            raise QuerySyntaxError(f"Cannot parse '{query}'")
        out.append(match.group(0).strip())
        pos = match.end()
    return out


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def group(self, field: str | None, closing: bool) -> Clause:
        """Members up to ``)`` (or the end); AND binds the members it joins, as in Lucene."""
        should: list[Node] = []
        required: list[Node] = []
        prohibited: list[Node] = []
        saw_and = False
        pending: str | None = None  # "+" or "-" from a prefix or NOT
        while True:
            token = self.peek()
            if token is None:
                if closing:
                    raise QuerySyntaxError("Missing ')' in query")
                break
            if token == ")":
                if not closing:
                    raise QuerySyntaxError("Unexpected ')' in query")
                self.take()
                break
            if token in ("AND", "&&"):
                self.take()
                saw_and = True
                continue
            if token in ("OR", "||"):
                self.take()
                continue
            if token in ("NOT", "!"):
                self.take()
                pending = "-"
                continue
            node, sign = self.member(field)
            sign = pending or sign
            pending = None
            (required if sign == "+" else prohibited if sign == "-" else should).append(node)
        if saw_and:
            # a AND b [AND c]: every plain member is required.
            required.extend(should)
            should = []
        return Clause("AND" if saw_and else "OR", tuple(should), tuple(required),
                      tuple(prohibited))

    def member(self, field: str | None) -> tuple[Node, str | None]:
        token = self.take()
        sign: str | None = None
        if token[:1] in "+-" and len(token) > 1:
            sign, token = token[0], token[1:]
        elif token in ("+", "-") and self.peek() == "(":
            sign = token
            token = self.take()
        if token == "(":
            return self.group(field, closing=True), sign
        name = field
        head, colon, rest = _split_field(token)
        if colon:
            name = head
            if rest == "":
                following = self.peek()
                if following == "(":
                    self.take()
                    return self.group(name, closing=True), sign
                if following is None:
                    raise QuerySyntaxError(f"Nothing after '{token}'")
                rest = self.take()
            token = rest
        if token.startswith('"'):
            return Term(name, _unescape(token[1:-1]), phrase=True), sign
        return Term(name, token), sign


def _split_field(token: str) -> tuple[str, bool, str]:
    """``field:rest`` on the first unescaped colon (a quoted value has none before it)."""
    if token.startswith('"'):
        return "", False, token
    match = re.match(r"^((?:\\.|[^:\\])+):(.*)$", token, re.DOTALL)
    if match is None:
        return "", False, token
    return _unescape(match.group(1)), True, match.group(2)


def parse_query(query: str) -> Clause:
    """The tree of ``query``; :class:`QuerySyntaxError` when it is not one."""
    if not query.strip():
        raise QuerySyntaxError("The query is empty")
    return _Parser(_tokens(query)).group(None, closing=False)

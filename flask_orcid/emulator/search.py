"""``/v3.0/search``, ``/v3.0/expanded-search`` and ``/v3.0/csv-search``: ORCID's record search.

Rules, from ORCID-Source (``OS:``):
- paths ``/search``, ``/expanded-search``, ``/csv-search`` (``OS:orcid-core/src/main/java/org/
  orcid/core/api/OrcidApiConstants.java:19-21``), on the member and the public API
  (``OS:orcid-api-web/.../memberV3/server/MemberV3ApiServiceImplV3_0.java:751-776``,
  ``OS:orcid-pub-web/.../publicV3/server/PublicV3ApiServiceImplV3_0.java:417-445``);
- ``rows`` defaults to 1000 and must be an integer 0..1000, else 400/9012 (``OS:orcid-core/src/
  main/java/org/orcid/core/manager/v3/OrcidSearchManager.java:25-29``; ``OS:orcid-pub-web/src/
  main/java/org/orcid/api/publicV3/server/delegator/impl/PublicV3ApiServiceDelegatorImpl.java:
  680-697``; OrcidBadRequestException is 9012 in ``OS:orcid-core/src/main/java/org/orcid/core/
  exception/OrcidCoreExceptionMapper.java:60``);
- ``start`` must be 0..10000 for callers without a token, else 400/9043
  (``PublicV3ApiServiceDelegatorImpl.java:659-678``; mapper ``:61``); with a token ORCID does not
  check it (``MemberV3ApiServiceDelegatorImpl.java:1119-1136``);
- ``/search`` with a token needs a scope implying ``/read-public`` (``MemberV3ApiService
  DelegatorImpl.java:1083-1088``), else 403/9038 (OrcidAccessControlException, mapper ``:99``);
- texts from ``OS:orcid-core/src/main/resources/i18n/api_en.properties:223-224``.
The emulator serves both APIs from one host: no token means the public API's rules.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from typing import Any

from flask import Blueprint, Response, request
from lxml import etree

from .formats import (
    Denied,
    error_response,
    json_response,
    oauth_json,
    response_format,
    xml_response,
)
from .runtime import state
from .search_index import Document, build_document, matches
from .search_query import QuerySyntaxError, parse_query
from .state import Token

bp = Blueprint("search", __name__)

DEFAULT_ROWS = MAX_ROWS = 1000
MAX_START = 10000
#: fields csv-search may return (``OS:orcid-core/.../solr/SolrConstants.java:112-114``)
CSV_FIELDS = ("orcid", "email", "given-names", "family-name", "given-and-family-names",
              "current-institution-affiliation-name", "past-institution-affiliation-name",
              "credit-name", "other-names")
#: scopes that imply /read-public (``OM:src/main/java/org/orcid/jaxb/model/message/
#: ScopePathType.java:60-122``); /webhook and /premium-notification do not
READ_PUBLIC_SCOPES = {"/read-public", "/authenticate", "openid", "/read-limited",
                      "/activities/update", "/person/update"}

_SEARCH_NS = "http://www.orcid.org/ns/search"
_EXPANDED_NS = "http://www.orcid.org/ns/expanded-search"
_COMMON_NS = "http://www.orcid.org/ns/common"


class _Refused(Exception):
    def __init__(self, response: Response):
        super().__init__("refused")
        self.response = response


def _caller() -> Token | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    value = header[7:].strip()
    st = state()
    token = st.find_token(value)
    if token is None or st.token_status(token) != "active":
        raise Denied(oauth_json(401, "invalid_token", f"Invalid access token: {value}"))
    return token


def _rows() -> int:
    raw = request.args.get("rows")
    if raw is None:
        return DEFAULT_ROWS
    try:
        rows = int(raw)
    except ValueError:
        rows = -1
    if rows < 0 or rows > MAX_ROWS:
        raise _Refused(error_response(
            400, 9012, f"Bad Request: The rows parameter must be an integer between 0 and "
            f"{MAX_ROWS}", f"The rows parameter must be an integer between 0 and {MAX_ROWS}"))
    return rows


def _start(token: Token | None) -> int:
    raw = request.args.get("start")
    if raw is None:
        return 0
    try:
        start = int(raw)
    except ValueError:
        start = -1
    if token is None and (start < 0 or start > MAX_START):
        message = ("The start parameter for API users without credentials must be an integer "
                   f"between 0 and {MAX_START}")
        raise _Refused(error_response(400, 9043, f"Bad Request: {message}", message))
    if start < 0:
        # With a token ORCID hands the value to Solr, which refuses it; ORCID then answers
        # with its catch-all 500 (UNCONFIRMED: the emulator does not run Solr).
        raise _Refused(error_response(500, 9008, f"Solr refused start={raw}"))
    return start


def _hits() -> list[Document]:
    query = request.args.get("q", "")
    if not query.strip():
        return []
    try:
        tree = parse_query(query)
    except QuerySyntaxError as exc:
        # Solr's parse error reaches ORCID as an unmapped exception (UNCONFIRMED text).
        raise _Refused(error_response(500, 9008, f"Search failed: {exc}")) from None
    st = state()
    today = _dt.datetime.fromtimestamp(st.now(), _dt.UTC).date()
    with st.lock:
        docs = [build_document(r, today) for r in st.researchers.values()]
    found = [d for d in docs if d is not None and matches(tree, d)]
    # Solr orders by relevance; the emulator, which does not score, by iD (stable pages).
    return sorted(found, key=lambda d: d["orcid"][0])


def _page(token: Token | None) -> tuple[list[Document], int]:
    rows = _rows()
    start = _start(token)
    hits = _hits()
    return hits[start:start + rows], len(hits)


def _guarded(fn: Any, negotiate: bool = True) -> Response:
    fmt = response_format()
    if fmt is None and negotiate:
        return Response("Not Acceptable", status=406, mimetype="text/plain")
    try:
        return fn(fmt)  # type: ignore[no-any-return]
    except (Denied, _Refused) as exc:
        return exc.response


# -- /search ----------------------------------------------------------------------------------------
def _search_xml(page: list[Document], total: int) -> etree._Element:
    root = etree.Element(f"{{{_SEARCH_NS}}}search",
                         nsmap={"search": _SEARCH_NS, "common": _COMMON_NS})
    root.set("num-found", str(total))
    for doc in page:
        result = etree.SubElement(root, f"{{{_SEARCH_NS}}}result")
        ident = etree.SubElement(result, f"{{{_COMMON_NS}}}orcid-identifier")
        # ORCID also writes common:uri; the XSD accepts only orcid.org hosts there
        # (README "Identifier URIs in XML"), so the emulator writes path and host.
        etree.SubElement(ident, f"{{{_COMMON_NS}}}path").text = doc["orcid"][0]
        etree.SubElement(ident, f"{{{_COMMON_NS}}}host").text = request.host
    return root


def _search_json(page: list[Document], total: int) -> dict[str, Any]:
    base = request.host_url.rstrip("/")
    return {
        "num-found": total,
        "result": [{"orcid-identifier": {"uri": f"{base}/{d['orcid'][0]}", "path": d["orcid"][0],
                                         "host": request.host}} for d in page],
    }


@bp.route("/v3.0/search", methods=["GET"])
@bp.route("/v3.0/search/", methods=["GET"], endpoint="search_slash")
def search() -> Response:
    def run(fmt: tuple[str, str]) -> Response:
        token = _caller()
        if token is not None and not READ_PUBLIC_SCOPES & set(token.scopes):
            raise _Refused(error_response(
                403, 9038, "403 Forbidden: The token does not carry a scope that allows "
                "searching (/read-public).", "You do not have access to this resource."))
        page, total = _page(token)
        if fmt[0] == "json":
            return json_response(_search_json(page, total), fmt[1])
        return xml_response(_search_xml(page, total), fmt[1])

    return _guarded(run)


# -- /expanded-search -------------------------------------------------------------------------------
def _institutions(doc: Document) -> list[str]:
    # OrcidSearchManagerImpl.java:123-127: current and past names, de-duplicated and sorted.
    return sorted(set(doc["current-institution-affiliation-name"]
                      + doc["past-institution-affiliation-name"]))


def _first(doc: Document, field: str) -> str | None:
    return doc[field][0] if doc[field] else None


def _expanded_xml(page: list[Document], total: int) -> etree._Element:
    root = etree.Element(f"{{{_EXPANDED_NS}}}expanded-search",
                         nsmap={"expanded-search": _EXPANDED_NS})
    root.set("num-found", str(total))

    def add(parent: etree._Element, name: str, text: str | None) -> None:
        if text is not None:
            etree.SubElement(parent, f"{{{_EXPANDED_NS}}}{name}").text = text

    for doc in page:
        result = etree.SubElement(root, f"{{{_EXPANDED_NS}}}expanded-result")
        add(result, "orcid-id", doc["orcid"][0])
        add(result, "given-names", _first(doc, "given-names"))
        add(result, "family-names", _first(doc, "family-name"))
        add(result, "credit-name", _first(doc, "credit-name"))
        for name in doc["other-names"]:
            add(result, "other-name", name)
        for email in doc["email"]:
            add(result, "email", email)
        for institution in _institutions(doc):
            add(result, "institution-name", institution)
    return root


def _expanded_json(page: list[Document], total: int) -> dict[str, Any]:
    return {
        "num-found": total,
        "expanded-result": [{
            "orcid-id": doc["orcid"][0],
            "given-names": _first(doc, "given-names"),
            "family-names": _first(doc, "family-name"),
            "credit-name": _first(doc, "credit-name"),
            "other-name": list(doc["other-names"]),
            "email": list(doc["email"]),
            "institution-name": _institutions(doc),
        } for doc in page],
    }


@bp.route("/v3.0/expanded-search", methods=["GET"])
@bp.route("/v3.0/expanded-search/", methods=["GET"], endpoint="expanded_search_slash")
def expanded_search() -> Response:
    def run(fmt: tuple[str, str]) -> Response:
        page, total = _page(_caller())
        if fmt[0] == "json":
            return json_response(_expanded_json(page, total), fmt[1])
        return xml_response(_expanded_xml(page, total), fmt[1])

    return _guarded(run)


# -- /csv-search ------------------------------------------------------------------------------------
def _csv_fields() -> list[str]:
    """``fl`` filtered to the allowed fields, else all of them (``OS:orcid-core/src/main/java/
    org/orcid/core/solr/OrcidSolrClient.java:6-27``; no trimming, as there)."""
    wanted = [f for f in (request.args.get("fl") or "").split(",") if f in CSV_FIELDS]
    return wanted or list(CSV_FIELDS)


@bp.route("/v3.0/csv-search", methods=["GET"])
@bp.route("/v3.0/csv-search/", methods=["GET"], endpoint="csv_search_slash")
def csv_search() -> Response:
    def run(_fmt: Any) -> Response:
        page, _total = _page(_caller())
        fields = _csv_fields()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        # Solr's CSV writer: a header line, multi-valued fields joined with commas.
        writer.writerow(fields)
        for doc in page:
            writer.writerow([",".join(doc[f]) for f in fields])
        return Response(out.getvalue(), mimetype="text/csv")

    return _guarded(run, negotiate=False)

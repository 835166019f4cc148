"""The v3.0 member/public API: record, person, works, work CRUD, bulk, affiliation sections.

Paths, statuses and error codes follow API-FACTS §4-§7. The emulator serves the member and the
public API from one host: an anonymous or /read-public caller sees public data only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request
from lxml import etree

from .formats import (
    Denied,
    api_error_response,
    error_response,
    json_response,
    oauth_json,
    request_format,
    response_format,
    xml_response,
)
from .normalize import self_keys
from .parsing import (
    affiliation_from_json,
    affiliation_from_xml,
    bulk_from_json,
    bulk_from_xml,
    parse_json,
    parse_xml,
    work_from_json,
    work_from_xml,
)
from .record_status import check_profile
from .render_affiliation import (
    affiliation_json,
    affiliation_xml,
    affiliations_json,
    affiliations_xml,
)
from .render_common import View
from .render_record import (
    activities_json,
    activities_xml,
    person_json,
    person_xml,
    record_json,
    record_xml,
)
from .render_work import bulk_json, bulk_xml, work_json, work_xml, works_json, works_xml
from .rules import WORK_TYPE_ALIASES, ApiError, validate_affiliation, validate_work
from .runtime import state
from .schema import Reader, check_affiliation, check_work
from .state import AFFILIATION_SECTIONS, PLURALS, SECTIONS, Item, Researcher, Token

bp = Blueprint("api", __name__)

MAX_WORKS = 10000
MAX_BULK = 100


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def authenticate(orcid: str, write: bool) -> Token | None:
    """The caller's token, enforcing ORCID's rules; None for an anonymous public read."""
    st = state()
    value = _bearer()
    if value is None:
        if write:
            raise Denied(oauth_json(401, "unauthorized",
                                    "Full authentication is required to access this resource"))
        return None
    token = st.find_token(value)
    status = st.token_status(token) if token is not None else None
    # A token the researcher revoked still works for DELETE (API-FACTS §2.5).
    usable = status == "active" or (status == "user_revoked" and request.method == "DELETE")
    if token is None or not usable:
        # ORCID echoes the token back in the description (API-FACTS §7).
        raise Denied(oauth_json(401, "invalid_token", f"Invalid access token: {value}"))
    if write:
        if token.orcid is None or "/activities/update" not in token.scopes:
            raise Denied(oauth_json(403, "forbidden",
                                    "Access is denied: the token lacks the /activities/update "
                                    "scope for this record."))
        if token.orcid != orcid:
            raise ApiError(401, 9017, "401 Unauthorized: The client application is not "
                           f"authorized for this ORCID record (full method: {request.path}).",
                           "The client application is not authorized.")
    elif token.orcid is None and "/read-public" not in token.scopes:
        raise Denied(oauth_json(403, "forbidden", "Access is denied: the token lacks a read "
                                "scope."))
    return token


def researcher_or_404(orcid: str) -> Researcher:
    researcher = state().researchers.get(orcid)
    if researcher is None:
        raise ApiError(404, 9011, f"404 Not Found: The ORCID record {orcid} was not found.",
                       "The ORCID record was not found.")
    return researcher


def make_view(researcher: Researcher, token: Token | None) -> View:
    limited = False
    client_id: str | None = None
    if token is not None and token.orcid == researcher.orcid:  # the record's own token
        limited = "/read-limited" in token.scopes
        client_id = token.client_id

    def visible(item: Item) -> bool:
        if item.visibility == "public":
            return True
        if client_id is not None and item.source_client_id == client_id:
            return True  # a source always sees what it added
        return limited and item.visibility in ("limited", "registered-only")

    return View(researcher, visible, limited, request.host, request.host_url.rstrip("/"))


#: A handler behind :func:`api_call`: (researcher, token, format, **route args) -> Response.
Handler = Callable[..., Response]


def api_call(write: bool = False) -> Callable[[Handler], Callable[..., Response]]:
    """Common handling: auth, content negotiation, errors as ORCID renders them."""

    def decorator(fn: Handler) -> Callable[..., Response]:
        def wrapper(orcid: str, **kwargs: Any) -> Response:
            fmt = response_format()
            if fmt is None:
                return Response("Not Acceptable", status=406, mimetype="text/plain")
            try:
                st = state()
                with st.lock:
                    token = authenticate(orcid, write)
                    researcher = researcher_or_404(orcid)
                    check_profile(researcher)
                    return fn(researcher, token, fmt, **kwargs)
            except Denied as exc:
                return exc.response
            except ApiError as exc:
                response = api_error_response(exc)
                location = getattr(exc, "location", None)
                if location:  # a deprecated record names its primary (record_status.py)
                    response.headers["Location"] = location
                return response

        wrapper.__name__ = fn.__name__
        return wrapper

    return decorator


def _render(fmt: tuple[str, str], xml_fn: Callable[..., etree._Element],
            json_fn: Callable[..., Any], *args: Any, status: int = 200) -> Response:
    kind, media = fmt
    if kind == "json":
        return json_response(json_fn(*args), media, status)
    return xml_response(xml_fn(*args), media, status)


def _body_document(section: str) -> tuple[dict[str, Any], int | None, str | None]:
    kind = request_format()
    if kind is None:
        raise ApiError(415, 9001, "415 Unsupported Media Type: send Content-Type "
                       "application/vnd.orcid+xml or application/vnd.orcid+json.")
    body = request.get_data(cache=False)
    if kind == "xml":
        root = parse_xml(body)
        parsed = work_from_xml(root) if section == "work" else affiliation_from_xml(section, root)
    else:
        doc = parse_json(body)
        parsed = work_from_json(doc) if section == "work" else affiliation_from_json(doc)
    data, _put_code, visibility = parsed
    reader = Reader(kind)
    if section == "work":
        check_work(data, visibility, reader)
    else:
        check_affiliation(data, visibility, reader)
    return parsed


def _check(section: str, data: dict[str, Any]) -> None:
    if section == "work":
        validate_work(data)
    else:
        validate_affiliation(section, data, state().orgs)


def _duplicate(researcher: Researcher, section: str, data: dict[str, Any], client_id: str,
               exclude: int | None = None) -> None:
    """409/9021 when this client already added an item with the same ``self`` id."""
    keys = self_keys(data)
    if not keys:
        return
    for item in researcher.items.get(section, {}).values():
        if item.put_code == exclude or item.source_client_id != client_id:
            continue
        if keys & self_keys(item.data):
            raise ApiError(
                409, 9021,
                "409 Conflict: You have already added this activity (matched by external "
                "identifiers), please see element with put-code "
                f"{item.put_code}. If you are trying to edit the item, please use PUT instead "
                "of POST.",
                "You have already added this activity.",
            )


def _create(researcher: Researcher, token: Token, section: str, data: dict[str, Any],
            put_code: int | None) -> Item:
    st = state()
    if put_code is not None:
        raise ApiError(400, 9024, "400 Bad Request: Put-code is included when not expected. "
                       "When posting new activities, the put code should be omitted.",
                       "Put-code must not be included when adding an item.")
    _check(section, data)
    if section == "work" and len(researcher.items.get("work", {})) >= MAX_WORKS:
        raise ApiError(409, 9048, "409 Conflict: This record has reached the maximum of "
                       f"{MAX_WORKS} works.", "The record already holds the maximum of works.")
    _duplicate(researcher, section, data, token.client_id)
    now = st.now()
    client = st.clients.get(token.client_id)
    item = Item(
        put_code=st.new_put_code(), section=section, data=data,
        # Visibility on POST is always the researcher's default (API-FACTS §5).
        visibility=researcher.default_visibility,
        created=now, modified=now, source_client_id=token.client_id,
        source_name=client.name if client else token.client_id,
    )
    researcher.section(section)[item.put_code] = item
    return item


def _location(researcher: Researcher, item: Item) -> str:
    return f"{request.host_url.rstrip('/')}/v3.0/{researcher.orcid}/{item.section}/{item.put_code}"


def _find(researcher: Researcher, section: str, put_code: int) -> Item:
    item = researcher.items.get(section, {}).get(put_code)
    if item is None:
        raise ApiError(404, 9016, f"404 Not Found: No entity found with id {put_code}.",
                       "The resource was not found.")
    return item


def _readable(item: Item, view: View) -> Item:
    if not view.visible(item):
        raise ApiError(403, 9013 if item.visibility == "private" else 9038,
                       f"403 Forbidden: The item {item.put_code} is not visible to you.",
                       "You do not have access to this item.")
    return item


# -- reads ---------------------------------------------------------------------------------------
@bp.route("/v3.0/<orcid>/record", methods=["GET"])
@bp.route("/v3.0/<orcid>", methods=["GET"], endpoint="record_root")
@api_call()
def record(researcher: Researcher, token: Token | None, fmt: tuple[str, str]) -> Response:
    return _render(fmt, record_xml, record_json, make_view(researcher, token))


@bp.route("/v3.0/<orcid>/person", methods=["GET"])
@api_call()
def person(researcher: Researcher, token: Token | None, fmt: tuple[str, str]) -> Response:
    return _render(fmt, person_xml, person_json, make_view(researcher, token))


@bp.route("/v3.0/<orcid>/activities", methods=["GET"])
@api_call()
def activities(researcher: Researcher, token: Token | None, fmt: tuple[str, str]) -> Response:
    return _render(fmt, activities_xml, activities_json, make_view(researcher, token))


@bp.route("/v3.0/<orcid>/works", methods=["GET"])
@api_call()
def works(researcher: Researcher, token: Token | None, fmt: tuple[str, str]) -> Response:
    return _render(fmt, works_xml, works_json, make_view(researcher, token))


@bp.route("/v3.0/<orcid>/works/<codes>", methods=["GET"])
@api_call()
def works_bulk_read(researcher: Researcher, token: Token | None, fmt: tuple[str, str],
                    codes: str) -> Response:
    parts = [p.strip() for p in codes.split(",") if p.strip()]
    if len(parts) > MAX_BULK:
        raise ApiError(400, 9042, f"400 Bad Request: Too many put-codes: {len(parts)}. The "
                       f"maximum is {MAX_BULK}.", "Too many put-codes requested.")
    view = make_view(researcher, token)
    entries: list[Item | ApiError] = []
    for part in parts:
        try:
            if not part.isdigit():
                raise ApiError(400, 9034, f"400 Bad Request: Invalid put-code {part}.")
            entries.append(_readable(_find(researcher, "work", int(part)), view))
        except ApiError as exc:
            entries.append(exc)
    return _render(fmt, bulk_xml, bulk_json, entries, view)


def _plural_read(plural: str) -> Callable[..., Response]:
    section = PLURALS[plural]

    def read(researcher: Researcher, token: Token | None, fmt: tuple[str, str]) -> Response:
        view = make_view(researcher, token)
        return _render(fmt, lambda: affiliations_xml(section, view),
                       lambda: affiliations_json(section, view))

    read.__name__ = f"read_{plural.replace('-', '_')}"
    return api_call()(read)


for _section in AFFILIATION_SECTIONS:
    _plural = SECTIONS[_section]
    bp.add_url_rule(f"/v3.0/<orcid>/{_plural}", view_func=_plural_read(_plural),
                    methods=["GET"])


@bp.route("/v3.0/<orcid>/<section>/<int:put_code>", methods=["GET"])
@api_call()
def read_item(researcher: Researcher, token: Token | None, fmt: tuple[str, str], section: str,
              put_code: int) -> Response:
    _known(section)
    view = make_view(researcher, token)
    item = _readable(_find(researcher, section, put_code), view)
    if section == "work":
        return _render(fmt, work_xml, work_json, item, view)
    return _render(fmt, affiliation_xml, affiliation_json, item, view)


def _known(section: str) -> None:
    if section not in SECTIONS:
        raise ApiError(404, 9016, f"404 Not Found: Unknown section {section}.",
                       "The resource was not found.")


# -- writes --------------------------------------------------------------------------------------
@bp.route("/v3.0/<orcid>/<section>", methods=["POST"])
@api_call(write=True)
def create(researcher: Researcher, token: Token, fmt: tuple[str, str], section: str) -> Response:
    if section == "works":
        return _bulk_create(researcher, token, fmt)
    _known(section)
    data, put_code, _visibility = _body_document(section)
    item = _create(researcher, token, section, data, put_code)
    state().record_changed(researcher.orcid)
    response = Response(status=201)
    response.headers["Location"] = _location(researcher, item)
    return response


def _bulk_create(researcher: Researcher, token: Token, fmt: tuple[str, str]) -> Response:
    kind = request_format()
    if kind is None:
        raise ApiError(415, 9001, "415 Unsupported Media Type: send Content-Type "
                       "application/vnd.orcid+xml or application/vnd.orcid+json.")
    body = request.get_data(cache=False)
    slots: list[Any] = (bulk_from_xml(parse_xml(body)) if kind == "xml"
                        else bulk_from_json(parse_json(body)))
    if len(slots) > MAX_BULK:
        raise ApiError(400, 9006, "400 Bad Request: You are allowed to add up to 100 elements "
                       "per request.", "Too many works in one request.")
    entries: list[Item | ApiError] = []
    for slot in slots:
        # Bulk is not atomic: each slot gets its work or its error (API-FACTS §4).
        try:
            data, put_code, _vis = (work_from_xml(slot) if kind == "xml"
                                    else work_from_json(slot))
            # The bulk is read without the XSD; a bad enum becomes null (schema.py).
            check_work(data, None, Reader(kind, lenient=kind == "xml"))
            entries.append(_create(researcher, token, "work", data, put_code))
        except ApiError as exc:
            entries.append(exc)
    if any(isinstance(e, Item) for e in entries):
        state().record_changed(researcher.orcid)
    return _render(fmt, bulk_xml, bulk_json, entries, make_view(researcher, token))


@bp.route("/v3.0/<orcid>/<section>/<int:put_code>", methods=["PUT"])
@api_call(write=True)
def update(researcher: Researcher, token: Token, fmt: tuple[str, str], section: str,
           put_code: int) -> Response:
    _known(section)
    data, body_code, visibility = _body_document(section)
    if body_code != put_code:
        raise ApiError(400, 9019, f"400 Bad Request: The put code in the URL was {put_code} "
                       f"whereas the one in the body was {body_code}.",
                       "The put-code in the URL and in the body differ.")
    item = _find(researcher, section, put_code)
    if item.source_client_id != token.client_id:
        if section == "work" and _unchanged(item, data):
            # An unchanged work from another source: OrcidForbiddenException (9014),
            # WorkManagerImpl.java:385-389 (orcid-core/.../manager/v3/impl/).
            raise ApiError(403, 9014, "403 Forbidden: The client application is forbidden to "
                           "perform the action. You are not the source of this work.",
                           "The client application is forbidden to perform the action.")
        raise ApiError(403, 9010, "403 Forbidden: You are not the source of this item, so "
                       "you cannot update or delete it.", "You cannot edit this item.")
    if visibility is not None and visibility != item.visibility:
        raise ApiError(403, 9035, "403 Forbidden: You can't change the visibility of an "
                       "existing item.", "The visibility is the researcher's to change.")
    _check(section, data)
    _duplicate(researcher, section, data, token.client_id, exclude=put_code)
    item.data = data
    item.modified = state().now()
    state().record_changed(researcher.orcid)
    view = make_view(researcher, token)
    if section == "work":
        return _render(fmt, work_xml, work_json, item, view)
    return _render(fmt, affiliation_xml, affiliation_json, item, view)


def _unchanged(item: Item, data: dict[str, Any]) -> bool:
    incoming = dict(data)
    if incoming.get("type") in WORK_TYPE_ALIASES:
        incoming["type"] = WORK_TYPE_ALIASES[incoming["type"]]
    return incoming == item.data


@bp.route("/v3.0/<orcid>/<section>/<int:put_code>", methods=["DELETE"])
@api_call(write=True)
def delete(researcher: Researcher, token: Token, fmt: tuple[str, str], section: str,
           put_code: int) -> Response:
    _known(section)
    item = _find(researcher, section, put_code)
    if item.source_client_id != token.client_id:
        raise ApiError(403, 9010, "403 Forbidden: You are not the source of this item, so "
                       "you cannot update or delete it.", "You cannot delete this item.")
    del researcher.items[section][put_code]
    state().record_changed(researcher.orcid)
    return Response(status=204)


@bp.route("/v3.0/<orcid>/<section>", methods=["PUT", "DELETE"])
@api_call(write=True)
def missing_put_code(researcher: Researcher, token: Token, fmt: tuple[str, str],
                     section: str) -> Response:
    # No PUT or DELETE is mapped without {putCode} (MemberV3ApiServiceImplV3_0.java:238-241),
    # so Jersey answers 405, which the mapper renders as 9001 (OrcidExceptionMapper.java:300-302).
    raise ApiError(405, 9001, "405 Method Not Allowed: Endpoint and method mismatch.",
                   "ORCID could not process the data, because they were invalid.")


@bp.route("/<orcid>/<path:rest>", methods=["GET", "POST", "PUT", "DELETE"])
def unversioned(orcid: str, rest: str) -> Response:
    """Every non-GET call needs a version prefix, except webhooks (API-FACTS §1)."""
    if request.method == "GET" or not re.fullmatch(r"(\d{4}-){3}\d{3}[\dX]", orcid):
        return error_response(404, 9016, f"404 Not Found: /{orcid}/{rest}; the emulator "
                              "serves the API under /v3.0/ only.")
    return error_response(400, 9012, "400 Bad Request: Please specify the API Version "
                          "you want to use, for example /v3.0/.",
                          "The API version is missing.")

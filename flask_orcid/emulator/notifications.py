"""``/v3.0/{orcid}/notification-permission``: permission requests for a researcher's inbox.

From ORCID-Source (``OS:``) and orcid-model (``OM:``):
- routes: POST and GET on ``/{orcid}/notification-permission``, GET and DELETE on
  ``…/{id}`` (``OS:orcid-core/src/main/java/org/orcid/core/api/OrcidApiConstants.java:25-26``;
  ``OS:orcid-api-web/src/main/java/org/orcid/api/memberV3/server/MemberV3ApiServiceImplV3_0.java:
  483-514``);
- every call needs a client-credentials token with ``/premium-notification``
  (``OS:orcid-api-web/src/main/java/org/orcid/api/notificationsV3/server/delegator/impl/
  NotificationsApiServiceDelegatorImpl.java:76``, ``:93``, ``:118``, ``:132``), a scope ORCID
  grants to premium members only; without it the emulator answers like any scope refusal
  (403 ``forbidden``, ``OS:orcid-api-common/.../security/oauth/OrcidBearerTokenFilter.java:
  88-92``);
- POST: the record must be usable (``NotificationsApiServiceDelegatorImpl.java:134``), a
  put-code is refused (400/9006, ``OS:orcid-core/.../manager/v3/impl/NotificationManagerImpl.
  java:483-485``), the authorization URI must parse (400/9020) and item external ids need a
  known type, a value and a relationship (400/9023) (``OS:orcid-core/.../manager/v3/impl/
  NotificationValidationManagerImpl.java:21-33``; ``OS:orcid-core/.../v3/validator/
  ExternalIDValidator.java:133-163``); a path alone gets ORCID's base URL
  (``OS:orcid-core/.../adapter/v3/impl/MapperFacadeFactory.java:243-263``); the answer is 201
  with ``Location: …/notification-permission/{put-code}`` (``NotificationsApiServiceDelegator
  Impl.java:137-147``);
- GET list: this client's permission notifications on the record, archived ones included,
  at most 1000 (``:77-90``; ``OS:orcid-persistence/.../dao/impl/NotificationDaoImpl.java:
  201-208``; ``OrcidApiConstants.java:122``); GET one of another client: 403/9004
  (``NotificationsApiServiceDelegatorImpl.java:108-115``), unknown: 404/9029;
- DELETE archives (it does not delete): another client's 403/9010, already read 403/9009,
  unknown 404/9029, else 200 with the notification (``NotificationManagerImpl.java:568-595``).
The XML follows ``OM:notification_3.0/notification-permission-3.0.xsd``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, request
from lxml import etree

from .api import researcher_or_404
from .formats import (
    Denied,
    api_error_response,
    json_response,
    oauth_json,
    request_format,
    response_format,
    xml_response,
)
from .inbox_model import Notification
from .parsing import invalid, invalid_json, parse_json, parse_xml
from .record_status import check_profile
from .render_common import iso, millis
from .rules import ID_TYPES, ApiError
from .runtime import state
from .state import Researcher, Token

bp = Blueprint("notifications", __name__)

NOTIFICATION_NS = "http://www.orcid.org/ns/notification"
COMMON_NS = "http://www.orcid.org/ns/common"
SCOPE = "/premium-notification"
MAX_LISTED = 1000
ITEM_TYPES = frozenset({"employment", "education", "qualification", "invited-position",
                        "distinction", "membership", "service", "funding", "work",
                        "peer-review"})
MAX_TEXT = 1000  # notification-intro and item-name (the XSD's maxLength)
_ORDER = ["notification-type", "authorization-url", "notification-subject",
          "notification-intro", "items", "created-date", "sent-date", "read-date",
          "actioned-date", "archived-date", "source"]


def _n(local: str) -> str:
    return f"{{{NOTIFICATION_NS}}}{local}"


def _c(local: str) -> str:
    return f"{{{COMMON_NS}}}{local}"


def _premium_token() -> Token:
    header = request.headers.get("Authorization", "")
    value = header[7:].strip() if header.lower().startswith("bearer ") else ""
    st = state()
    token = st.find_token(value) if value else None
    if token is None or st.token_status(token) != "active":
        raise Denied(oauth_json(401, "invalid_token", f"Invalid access token: {value}")
                     if value else oauth_json(401, "unauthorized", "Full authentication is "
                                              "required to access this resource"))
    if SCOPE not in token.scopes or token.orcid is not None:
        raise Denied(oauth_json(403, "forbidden", "Access is denied: the token lacks the "
                                "/premium-notification scope."))
    return token


# -- reading a posted document --------------------------------------------------------------
def _xml_document(body: bytes) -> dict[str, Any]:
    root = parse_xml(body)
    if root.tag != _n("notification"):
        raise invalid(f"cvc-elt.1: Cannot find the declaration of element '{root.tag}'.")
    found: dict[str, etree._Element] = {}
    last = -1
    for child in root:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        index = _ORDER.index(local) if local in _ORDER else -1
        if index <= last:
            raise invalid(f"cvc-complex-type.2.4.a: Invalid content was found starting with "
                          f"element '{local}'.")
        last = index
        found[local] = child
    auth = found.get("authorization-url")
    url = {etree.QName(c).localname: (c.text or "").strip() for c in (auth if auth is not None else [])
           if isinstance(c.tag, str)}
    items = []
    for item in found["items"] if "items" in found else []:
        if not isinstance(item.tag, str):
            continue
        ext = item.find(_c("external-id"))
        items.append({
            "item_type": (item.findtext(_n("item-type")) or "").strip(),
            "item_name": item.findtext(_n("item-name")),
            "external_id": None if ext is None else {
                "type": ext.findtext(_c("external-id-type")),
                "value": ext.findtext(_c("external-id-value")),
                "url": ext.findtext(_c("external-id-url")),
                "relationship": ext.findtext(_c("external-id-relationship")),
            },
        })
    return {
        "put_code": root.get("put-code"),
        "type": (found["notification-type"].text or "").strip()
        if "notification-type" in found else None,
        "has_url": auth is not None, "url": url, "has_items": "items" in found, "items": items,
        "subject": found["notification-subject"].text if "notification-subject" in found
        else None,
        "intro": found["notification-intro"].text if "notification-intro" in found else None,
    }


def _value(value: Any) -> Any:
    return value.get("value") if isinstance(value, dict) else value


def _json_document(body: bytes) -> dict[str, Any]:
    doc = parse_json(body)
    if not isinstance(doc, dict):
        raise invalid_json("a notification must be a JSON object.")
    auth = doc.get("authorization-url")
    raw_items = (doc.get("items") or {}).get("item") if isinstance(doc.get("items"), dict) \
        else None
    items = []
    for item in raw_items or []:
        if not isinstance(item, dict):
            raise invalid_json("an item must be a JSON object.")
        ext = item.get("external-id")
        items.append({
            "item_type": str(item.get("item-type") or ""),
            "item_name": item.get("item-name"),
            "external_id": None if not isinstance(ext, dict) else {
                key: _value(ext.get(f"external-id-{key}"))
                for key in ("type", "value", "url", "relationship")},
        })
    return {
        "put_code": doc.get("put-code"),
        "type": doc.get("notification-type"),
        "has_url": isinstance(auth, dict),
        "url": {k: v for k, v in (auth or {}).items() if isinstance(v, str)}
        if isinstance(auth, dict) else {},
        "has_items": raw_items is not None, "items": items,
        "subject": doc.get("notification-subject"), "intro": doc.get("notification-intro"),
    }


def _schema(doc: dict[str, Any], kind: str) -> None:
    """What the XSD (XML, 9012) or Jackson's mapping (JSON, 9047) refuses."""
    bad = invalid if kind == "xml" else invalid_json
    if str(doc["type"] or "").lower() != "permission":
        raise bad("notification-type must be 'permission'.")
    if not doc["has_url"] or not (doc["url"].get("uri") or doc["url"].get("path")):
        raise bad("authorization-url needs a uri or a path.")
    if not doc["has_items"] or not doc["items"]:
        raise bad("items must hold at least one item.")
    if doc["intro"] is not None and len(doc["intro"]) > MAX_TEXT:
        raise bad(f"notification-intro is longer than {MAX_TEXT} characters.")
    for item in doc["items"]:
        if item["item_type"] not in ITEM_TYPES:
            raise bad(f"item-type '{item['item_type']}' is not one of "
                      f"{', '.join(sorted(ITEM_TYPES))}.")
        if item["item_name"] is None or len(item["item_name"]) > MAX_TEXT:
            raise bad(f"item-name is missing or longer than {MAX_TEXT} characters.")


def _authorization_uri(url: dict[str, str]) -> str:
    """NotificationValidationManagerImpl.java:21-30 and MapperFacadeFactory.java:247-251."""
    uri = url.get("uri") or request.host_url.rstrip("/") + url.get("path", "")
    try:
        parts = urlsplit(uri)
        if any(ch in uri for ch in ' <>"{}|\\^`') or not parts.scheme:
            raise ValueError(uri)
    except ValueError:
        raise ApiError(400, 9020, "400 Bad Request: Bad authorization uri",
                       "The authorization URL is not valid.") from None
    return uri


def _check_items(items: list[dict[str, Any]]) -> None:
    """ExternalIDValidator.java:133-163: one 9023 naming every problem."""
    errors: list[str] = []
    for item in items:
        ext = item["external_id"]
        if ext is None or not ext.get("type"):
            continue
        if ext["type"] not in ID_TYPES:
            errors.append(str(ext["type"]))
        if not (ext.get("value") or "").strip():
            errors.append("value")
        if not ext.get("relationship"):
            errors.append("relationship")
    if errors:
        raise ApiError(400, 9023, "400 Bad Request: Invalid external-id " + " ".join(errors),
                       "An external identifier of an item is not valid.")


def _read_body() -> dict[str, Any]:
    kind = request_format()
    if kind is None:
        raise ApiError(415, 9001, "415 Unsupported Media Type: send Content-Type "
                       "application/vnd.orcid+xml or application/vnd.orcid+json.")
    body = request.get_data(cache=False)
    doc = _xml_document(body) if kind == "xml" else _json_document(body)
    _schema(doc, kind)
    return doc


# -- writing ----------------------------------------------------------------------------------
def _xml(n: Notification, parent: etree._Element | None = None) -> etree._Element:
    nsmap = {"notification": NOTIFICATION_NS, "common": COMMON_NS}
    el = (etree.SubElement(parent, _n("notification")) if parent is not None
          else etree.Element(_n("notification"), nsmap=nsmap))
    el.set("put-code", str(n.put_code))
    etree.SubElement(el, _n("notification-type")).text = "permission"
    url = etree.SubElement(el, _n("authorization-url"))
    parts = urlsplit(n.authorization_uri)
    etree.SubElement(url, _n("uri")).text = n.authorization_uri
    etree.SubElement(url, _n("path")).text = parts.path + (f"?{parts.query}" if parts.query
                                                             else "")
    etree.SubElement(url, _n("host")).text = request.host
    etree.SubElement(el, _n("notification-subject")).text = n.subject or ""
    etree.SubElement(el, _n("notification-intro")).text = n.intro or ""
    items = etree.SubElement(el, _n("items"))
    for item in n.items:
        it = etree.SubElement(items, _n("item"))
        etree.SubElement(it, _n("item-type")).text = item["item_type"]
        etree.SubElement(it, _n("item-name")).text = item["item_name"]
        ext = item.get("external_id")
        if ext:
            x = etree.SubElement(it, _c("external-id"))
            for key in ("type", "value", "url", "relationship"):
                if ext.get(key):
                    etree.SubElement(x, _c(f"external-id-{key}")).text = ext[key]
    for local, ns, value in (("created-date", _c, n.created), ("sent-date", _c, n.sent),
                             ("read-date", _c, n.read), ("actioned-date", _n, n.actioned),
                             ("archived-date", _c, n.archived)):
        if value is not None:
            etree.SubElement(el, ns(local)).text = iso(value)
    source = etree.SubElement(el, _c("source"))
    cid = etree.SubElement(source, _c("source-client-id"))
    etree.SubElement(cid, _c("path")).text = n.client_id
    etree.SubElement(cid, _c("host")).text = request.host
    etree.SubElement(source, _c("source-name")).text = n.source_name
    return el


def _json(n: Notification) -> dict[str, Any]:
    parts = urlsplit(n.authorization_uri)
    base = request.host_url.rstrip("/")
    return {
        "put-code": n.put_code,
        "notification-type": "permission",
        "authorization-url": {"uri": n.authorization_uri,
                              "path": parts.path + (f"?{parts.query}" if parts.query else ""),
                              "host": request.host},
        "notification-subject": n.subject,
        "notification-intro": n.intro,
        "items": {"item": [{
            "item-type": i["item_type"], "item-name": i["item_name"],
            "external-id": None if not i.get("external_id") else {
                f"external-id-{k}": i["external_id"].get(k)
                for k in ("type", "value", "url", "relationship")},
        } for i in n.items]},
        "created-date": millis(n.created),
        "sent-date": millis(n.sent) if n.sent is not None else None,
        "read-date": millis(n.read) if n.read is not None else None,
        "actioned-date": millis(n.actioned) if n.actioned is not None else None,
        "archived-date": millis(n.archived) if n.archived is not None else None,
        "source": {"source-client-id": {"uri": f"{base}/client/{n.client_id}",
                                        "path": n.client_id, "host": request.host},
                   "source-name": {"value": n.source_name}},
    }


def _render(n: Notification, fmt: tuple[str, str], status: int = 200) -> Response:
    if fmt[0] == "json":
        return json_response(_json(n), fmt[1], status)
    return xml_response(_xml(n), fmt[1], status)


def _not_found(orcid: str, put_code: int) -> ApiError:
    return ApiError(404, 9029, f"404 Not Found: Unable to find notification with ORCID "
                    f"{orcid} and put-code {put_code}.", "The notification was not found.")


def _find(researcher: Researcher, put_code: int) -> Notification:
    found = state().notifications.get(put_code)
    if found is None or found.orcid != researcher.orcid:
        raise _not_found(researcher.orcid, put_code)
    return found


# -- routes -----------------------------------------------------------------------------------
def _premium(fn: Any) -> Any:
    """Token (with /premium-notification), record, then the handler; errors as ORCID's."""

    def wrapper(orcid: str, **kwargs: Any) -> Response:
        fmt = response_format()
        if fmt is None:
            return Response("Not Acceptable", status=406, mimetype="text/plain")
        try:
            with state().lock:
                token = _premium_token()
                researcher = researcher_or_404(orcid)
                try:
                    check_profile(researcher)
                except ApiError as exc:
                    # reads ignore a deactivation (NotificationsApiServiceDelegatorImpl
                    # .java:150-160)
                    if exc.code != 9044 or request.method != "GET":
                        raise
                return fn(researcher, token, fmt, **kwargs)  # type: ignore[no-any-return]
        except Denied as exc:
            return exc.response
        except ApiError as exc:
            response = api_error_response(exc)
            location = getattr(exc, "location", None)
            if location:
                response.headers["Location"] = location
            return response

    wrapper.__name__ = fn.__name__
    return wrapper


@bp.route("/v3.0/<orcid>/notification-permission", methods=["POST"])
@_premium
def add(researcher: Researcher, token: Token, fmt: tuple[str, str]) -> Response:
    doc = _read_body()
    if doc["put_code"] is not None:
        raise ApiError(400, 9006, "400 Bad Request: Put code must be null when creating a "
                       "new notification", "Put-code must not be included.")
    uri = _authorization_uri(doc["url"])
    _check_items(doc["items"])
    st = state()
    client = st.clients.get(token.client_id)
    notification = Notification(
        put_code=st.new_put_code(), orcid=researcher.orcid, client_id=token.client_id,
        source_name=client.name if client else token.client_id, authorization_uri=uri,
        subject=doc["subject"], intro=doc["intro"], items=doc["items"], created=st.now(),
    )
    st.notifications[notification.put_code] = notification
    st.save()
    response = Response(status=201)
    response.headers["Location"] = (f"{request.base_url.rstrip('/')}/"
                                    f"{notification.put_code}")
    return response


@bp.route("/v3.0/<orcid>/notification-permission", methods=["GET"])
@_premium
def listing(researcher: Researcher, token: Token, fmt: tuple[str, str]) -> Response:
    mine = sorted((n for n in state().notifications.values()
                   if n.orcid == researcher.orcid and n.client_id == token.client_id),
                  key=lambda n: n.put_code)[:MAX_LISTED]
    if fmt[0] == "json":
        return json_response({"notification": [_json(n) for n in mine]}, fmt[1])
    root = etree.Element(_n("notifications"),
                         nsmap={"notification": NOTIFICATION_NS, "common": COMMON_NS})
    for n in mine:
        _xml(n, root)
    return xml_response(root, fmt[1])


@bp.route("/v3.0/<orcid>/notification-permission/<int:put_code>", methods=["GET"])
@_premium
def read_one(researcher: Researcher, token: Token, fmt: tuple[str, str],
             put_code: int) -> Response:
    found = _find(researcher, put_code)
    if found.client_id != token.client_id:
        raise ApiError(403, 9004, f"403 Forbidden: The client {token.client_id} is not the "
                       "source of this notification.", "You cannot read this notification.")
    return _render(found, fmt)


@bp.route("/v3.0/<orcid>/notification-permission/<int:put_code>", methods=["DELETE"])
@_premium
def archive(researcher: Researcher, token: Token, fmt: tuple[str, str],
            put_code: int) -> Response:
    found = _find(researcher, put_code)
    if found.client_id != token.client_id:
        raise ApiError(403, 9010, "403 Forbidden: You are not the source of the notification, "
                       "so you are not allowed to update it.",
                       "You cannot change this notification.")
    if found.read is not None:
        raise ApiError(403, 9009, "403 Forbidden: The notification has already been read and "
                       "cannot be archived.", "The notification was already read.")
    st = state()
    if found.archived is None:
        found.archived = st.now()
        st.save()
    return _render(found, fmt)


def notifications_json(orcid: str | None = None) -> list[dict[str, Any]]:
    """Every notification (of one record), for ``/_emulator/notifications``."""
    with state().lock:
        found = [n for n in state().notifications.values() if orcid in (None, n.orcid)]
        return [json.loads(json.dumps(_json(n))) for n in sorted(found,
                                                                   key=lambda n: n.put_code)]

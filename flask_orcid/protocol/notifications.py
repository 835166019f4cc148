"""Permission notifications (orcid-model ``notification_3.0``): ask a researcher, through their
ORCID inbox, to grant this site access; ORCID shows the subject, the intro and the items, and a
button that opens ``authorization_url``.

Needs a client-credentials token with ``/premium-notification`` (premium members only;
orcid-model ``notification_3.0/README.md``). ORCID's limits: intro and item names at most 1000
characters (the XSD), ten item types.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import etree

from ..errors import ValidationError, XMLError
from .values import ExternalId
from .xmlsafe import parse_xml

__all__ = ["ITEM_TYPES", "NotificationItem", "PermissionNotification",
           "parse_notification", "parse_notifications"]

_N = "http://www.orcid.org/ns/notification"
_C = "http://www.orcid.org/ns/common"
ITEM_TYPES = ("employment", "education", "qualification", "invited-position", "distinction",
              "membership", "service", "funding", "work", "peer-review")
MAX_TEXT = 1000


@dataclass
class NotificationItem:
    item_type: str
    name: str
    external_id: ExternalId | None = None


@dataclass
class PermissionNotification:
    """A permission request; ``put_code`` and the dates are ORCID's, read back."""

    authorization_url: str
    subject: str
    intro: str
    items: list[NotificationItem] = field(default_factory=list)
    put_code: int | None = None
    created: _dt.datetime | None = None
    read: _dt.datetime | None = None
    actioned: _dt.datetime | None = None
    archived: _dt.datetime | None = None
    source_client_id: str | None = None

    def problems(self) -> list[str]:
        out = []
        parts = urlsplit(self.authorization_url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            out.append("authorization_url must be an absolute http(s) URL")
        if len(self.intro) > MAX_TEXT:
            out.append(f"intro is longer than {MAX_TEXT} characters")
        if not self.items:
            out.append("a permission request lists at least one item")
        for item in self.items:
            if item.item_type not in ITEM_TYPES:
                out.append(f"item type {item.item_type!r} is not one of {', '.join(ITEM_TYPES)}")
            if not item.name or len(item.name) > MAX_TEXT:
                out.append(f"item name must have 1 to {MAX_TEXT} characters")
        return out

    def to_xml(self) -> bytes:
        """The document to POST (no put-code, no dates: ORCID sets them)."""
        problems = self.problems()
        if problems:
            raise ValidationError("; ".join(problems))
        root = etree.Element(f"{{{_N}}}notification", nsmap={"notification": _N, "common": _C})
        etree.SubElement(root, f"{{{_N}}}notification-type").text = "permission"
        url = etree.SubElement(root, f"{{{_N}}}authorization-url")
        etree.SubElement(url, f"{{{_N}}}uri").text = self.authorization_url
        etree.SubElement(root, f"{{{_N}}}notification-subject").text = self.subject
        etree.SubElement(root, f"{{{_N}}}notification-intro").text = self.intro
        items = etree.SubElement(root, f"{{{_N}}}items")
        for item in self.items:
            el = etree.SubElement(items, f"{{{_N}}}item")
            etree.SubElement(el, f"{{{_N}}}item-type").text = item.item_type
            etree.SubElement(el, f"{{{_N}}}item-name").text = item.name
            ext = item.external_id
            if ext is not None:
                x = etree.SubElement(el, f"{{{_C}}}external-id")
                etree.SubElement(x, f"{{{_C}}}external-id-type").text = ext.type
                etree.SubElement(x, f"{{{_C}}}external-id-value").text = ext.value
                if ext.url:
                    etree.SubElement(x, f"{{{_C}}}external-id-url").text = ext.url
                etree.SubElement(x, f"{{{_C}}}external-id-relationship").text = (
                    ext.relationship or "self")
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _when(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    try:
        return _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _one(el: etree._Element) -> PermissionNotification:
    url = el.find(f"{{{_N}}}authorization-url")
    uri = "" if url is None else (url.findtext(f"{{{_N}}}uri") or url.findtext(f"{{{_N}}}path")
                                  or "")
    items = []
    for item in el.iterfind(f"{{{_N}}}items/{{{_N}}}item"):
        items.append(NotificationItem(item.findtext(f"{{{_N}}}item-type") or "",
                                      item.findtext(f"{{{_N}}}item-name") or ""))
    code = el.get("put-code")
    source = el.find(f"{{{_C}}}source/{{{_C}}}source-client-id")
    return PermissionNotification(
        authorization_url=uri.strip(), subject=el.findtext(f"{{{_N}}}notification-subject") or "",
        intro=el.findtext(f"{{{_N}}}notification-intro") or "", items=items,
        put_code=int(code) if code and code.isdigit() else None,
        created=_when(el.findtext(f"{{{_C}}}created-date")),
        read=_when(el.findtext(f"{{{_C}}}read-date")),
        actioned=_when(el.findtext(f"{{{_N}}}actioned-date")),
        archived=_when(el.findtext(f"{{{_C}}}archived-date")),
        source_client_id=None if source is None else source.findtext(f"{{{_C}}}path"),
    )


def parse_notification(xml: bytes | str) -> PermissionNotification:
    root = parse_xml(xml)
    if root.tag != f"{{{_N}}}notification":
        raise XMLError("Expected an ORCID notification, got another document.")
    return _one(root)


def parse_notifications(xml: bytes | str) -> list[PermissionNotification]:
    root = parse_xml(xml)
    if root.tag != f"{{{_N}}}notifications":
        raise XMLError("Expected ORCID's list of notifications, got another document.")
    return [_one(el) for el in root.findall(f"{{{_N}}}notification")]

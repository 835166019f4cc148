"""Writing the person, the activities summary and the whole record in XML and JSON."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .render_affiliation import affiliations_json, affiliations_xml
from .render_common import View, iso, last_modified, millis
from .render_work import works_json, works_xml
from .state import SECTIONS
from .xmltree import new_root, sub


def _orcid_source_xml(parent: etree._Element, view: View) -> None:
    src = sub(parent, "common", "source")
    so = sub(src, "common", "source-orcid")
    sub(so, "common", "path", view.orcid)
    sub(so, "common", "host", view.host)
    sub(src, "common", "source-name", view.researcher.display_name)


def person_xml(view: View, parent: etree._Element | None = None) -> etree._Element:
    r = view.researcher
    path = f"/{r.orcid}/person"
    el = sub(parent, "person", "person", path=path) if parent is not None else new_root(
        "person", "person", path=path)
    created = iso(r.created)
    sub(el, "common", "last-modified-date", created)
    if view.shows(r.name_visibility):
        name = sub(el, "person", "name", visibility=r.name_visibility, path=r.orcid)
        sub(name, "common", "created-date", created)
        sub(name, "common", "last-modified-date", created)
        sub(name, "personal-details", "given-names", r.given_names)
        if r.family_name:
            sub(name, "personal-details", "family-name", r.family_name)
        if r.credit_name:
            sub(name, "personal-details", "credit-name", r.credit_name)
    others = sub(el, "other-name", "other-names", path=f"/{r.orcid}/other-names")
    for n, other in enumerate(r.other_names, start=1):
        on = sub(others, "other-name", "other-name", put_code=n, visibility="public",
                 path=f"/{r.orcid}/other-names/{n}", display_index="0")
        sub(on, "common", "created-date", created)
        sub(on, "common", "last-modified-date", created)
        _orcid_source_xml(on, view)
        sub(on, "other-name", "content", other)
    if r.biography:
        bio = sub(el, "person", "biography", visibility="public", path=f"/{r.orcid}/biography")
        sub(bio, "common", "created-date", created)
        sub(bio, "common", "last-modified-date", created)
        sub(bio, "personal-details", "content", r.biography)
    emails = sub(el, "email", "emails", path=f"/{r.orcid}/email")
    for e in r.emails:
        if not view.shows(e.visibility):
            continue
        ee = sub(emails, "email", "email", visibility=e.visibility,
                 verified=str(e.verified).lower(), primary=str(e.primary).lower())
        sub(ee, "common", "created-date", created)
        sub(ee, "common", "last-modified-date", created)
        _orcid_source_xml(ee, view)
        sub(ee, "email", "email", e.email)
    return el


def person_json(view: View) -> dict[str, Any]:
    r = view.researcher
    created = millis(r.created)
    source = {
        "source-orcid": {"uri": f"{view.base}/{r.orcid}", "path": r.orcid, "host": view.host},
        "source-client-id": None,
        "source-name": {"value": r.display_name},
        "assertion-origin-orcid": None, "assertion-origin-client-id": None,
        "assertion-origin-name": None,
    }
    name = None
    if view.shows(r.name_visibility):
        name = {
            "created-date": created, "last-modified-date": created,
            "given-names": {"value": r.given_names},
            "family-name": {"value": r.family_name} if r.family_name else None,
            "credit-name": {"value": r.credit_name} if r.credit_name else None,
            "source": None, "visibility": r.name_visibility, "path": r.orcid,
        }
    return {
        "last-modified-date": created,
        "name": name,
        "other-names": {
            "last-modified-date": created,
            "other-name": [
                {"created-date": created, "last-modified-date": created, "source": source,
                 "content": other, "visibility": "public",
                 "path": f"/{r.orcid}/other-names/{n}", "put-code": n, "display-index": 0}
                for n, other in enumerate(r.other_names, start=1)
            ],
            "path": f"/{r.orcid}/other-names",
        },
        "biography": {"created-date": created, "last-modified-date": created,
                      "content": r.biography, "visibility": "public",
                      "path": f"/{r.orcid}/biography"} if r.biography else None,
        "researcher-urls": {"last-modified-date": None, "researcher-url": [],
                            "path": f"/{r.orcid}/researcher-urls"},
        "emails": {
            "last-modified-date": created,
            "email": [
                {"created-date": created, "last-modified-date": created, "source": source,
                 "email": e.email, "path": None, "visibility": e.visibility,
                 "verified": e.verified, "primary": e.primary, "put-code": None}
                for e in r.emails if view.shows(e.visibility)
            ],
            "path": f"/{r.orcid}/email",
        },
        "addresses": {"last-modified-date": None, "address": [],
                      "path": f"/{r.orcid}/address"},
        "keywords": {"last-modified-date": None, "keyword": [],
                     "path": f"/{r.orcid}/keywords"},
        "external-identifiers": {"last-modified-date": None, "external-identifier": [],
                                 "path": f"/{r.orcid}/external-identifiers"},
        "path": f"/{r.orcid}/person",
    }


_EMPTY_ACTIVITIES = {"fundings", "peer-reviews", "research-resources"}
_ACTIVITY_ORDER = ["distinctions", "educations", "employments", "fundings",
                   "invited-positions", "memberships", "peer-reviews", "qualifications",
                   "research-resources", "services", "works"]


def activities_xml(view: View, parent: etree._Element | None = None) -> etree._Element:
    path = f"/{view.orcid}/activities"
    el = sub(parent, "activities", "activities-summary", path=path) if parent is not None \
        else new_root("activities", "activities-summary", path=path)
    latest = last_modified([i for s in SECTIONS for i in view.items(s)])
    if latest is not None:
        sub(el, "common", "last-modified-date", iso(latest))
    for plural in _ACTIVITY_ORDER:
        if plural in _EMPTY_ACTIVITIES:
            sub(el, "activities", plural, path=f"/{view.orcid}/{plural}")
        elif plural == "works":
            works_xml(view, parent=el)
        else:
            affiliations_xml(plural_to_section(plural), view, parent=el)
    return el


def plural_to_section(plural: str) -> str:
    return next(s for s, p in SECTIONS.items() if p == plural)


def activities_json(view: View) -> dict[str, Any]:
    latest = last_modified([i for s in SECTIONS for i in view.items(s)])
    out: dict[str, Any] = {"last-modified-date": millis(latest) if latest else None}
    for plural in _ACTIVITY_ORDER:
        if plural in _EMPTY_ACTIVITIES:
            out[plural] = {"last-modified-date": None, "group": [],
                           "path": f"/{view.orcid}/{plural}"}
        elif plural == "works":
            out[plural] = works_json(view)
        else:
            out[plural] = affiliations_json(plural_to_section(plural), view)
    out["path"] = f"/{view.orcid}/activities"
    return out


def record_xml(view: View) -> etree._Element:
    root = new_root("record", "record", path=f"/{view.orcid}")
    ident = sub(root, "common", "orcid-identifier")
    sub(ident, "common", "path", view.orcid)
    sub(ident, "common", "host", view.host)
    person_xml(view, parent=root)
    activities_xml(view, parent=root)
    return root


def record_json(view: View) -> dict[str, Any]:
    return {
        "orcid-identifier": {"uri": f"{view.base}/{view.orcid}", "path": view.orcid,
                             "host": view.host},
        "preferences": {"locale": view.researcher.locale},
        "history": None,
        "person": person_json(view),
        "activities-summary": activities_json(view),
        "path": f"/{view.orcid}",
    }

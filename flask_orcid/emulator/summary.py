"""``GET /v3.0/{orcid}/summary``: the member API's record summary (trust markers).

From ORCID-Source (``OS:``):
- path ``/{orcid}/summary``, member API only, behind a feature flag (``OS:orcid-core/src/main/
  java/org/orcid/core/api/OrcidApiConstants.java:120``; ``OS:orcid-api-web/src/main/java/org/
  orcid/api/memberV3/server/MemberV3ApiServiceImplV3_0.java:1051-1059``);
- access: ``checkClientAccessAndScopes(orcid, READ_PUBLIC)`` (``OS:orcid-api-web/src/main/java/
  org/orcid/api/memberV3/server/delegator/impl/MemberV3ApiServiceDelegatorImpl.java:1578-1584``):
  no token 401/9017, a token of another record 401/9017, a client-credentials token passes
  (``OS:orcid-core/src/main/java/org/orcid/core/manager/v3/impl/OrcidSecurityManagerImpl.java:
  784-812``), a scope not implying /read-public 403/9038 (``:236-256``). So a ``/read-limited``
  token of the record works, and so does a ``/read-public`` client token;
- content (``OS:orcid-core/src/main/java/org/orcid/core/common/manager/impl/
  SummaryManagerImpl.java``): the public display name (``:142``); employments, professional
  activities and education/qualifications as a count plus the first three by end date, latest
  first, an open end counting as today (``:299-427``, ``:597-621``), each ``validated`` unless
  its source is the researcher (``:323``); works as validated/self-asserted group counts over
  public works (``:448-470``, ``:558-580``); fundings, peer reviews and research resources
  (none in the emulator: zero); public email domains, count plus three (``:516-556``);
- email domains come from verified emails in a domain ORCID lists as professional, with the
  record's default visibility (``OS:orcid-core/src/main/java/org/orcid/core/manager/v3/impl/
  ProfileEmailDomainManagerImpl.java:92-125``; ``EmailManagerImpl.java:74-80``).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from flask import Blueprint, Response, request
from lxml import etree

from .api import api_call, researcher_or_404
from .formats import Denied, api_error_response, json_response, oauth_json, xml_response
from .render_common import group_items, iso, json_date, millis, xml_date
from .rules import ApiError
from .runtime import state
from .search import READ_PUBLIC_SCOPES
from .state import Item, Researcher, Token

bp = Blueprint("summary", __name__)

SUMMARY_NS = "http://www.orcid.org/ns/summary"
COMMON_NS = "http://www.orcid.org/ns/common"
#: domains of personal mailboxes: ORCID's email_domain table files them as PERSONAL, so a
#: verified address there adds no domain (the emulator's short stand-in for that table)
PERSONAL_DOMAINS = frozenset({"gmail.com", "yahoo.com", "hotmail.com", "outlook.com",
                              "icloud.com", "mailinator.com", "proton.me", "aol.com"})
PROFESSIONAL = ("distinction", "invited-position", "membership", "service")
EDUCATION = ("education", "qualification")

_VALIDATED = ("validated-count", "self-asserted-count")


def summary_access(orcid: str) -> None:
    """ORCID's access rule for the summary (module docstring); raises what ORCID answers."""
    st = state()
    header = request.headers.get("Authorization", "")
    value = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not value:
        raise ApiError(401, 9017, "401 Unauthorized: No OAuth2 authentication found",
                       "The client application is not authorized.")
    token = st.find_token(value)
    if token is None or st.token_status(token) != "active":
        raise Denied(oauth_json(401, "invalid_token", f"Invalid access token: {value}"))
    if token.orcid is not None and token.orcid != orcid:
        raise ApiError(401, 9017, "401 Unauthorized: Access token is for a different record",
                       "The client application is not authorized.")
    if not READ_PUBLIC_SCOPES & set(token.scopes):
        raise ApiError(403, 9038, "403 Forbidden: You do not have the required permissions.",
                       "You do not have access to this resource.")


def email_domains(researcher: Researcher) -> list[tuple[str, float]]:
    """(domain, verification time) of the record's public professional email domains."""
    seen: dict[str, float] = {}
    if researcher.default_visibility != "public":
        return []
    for email in researcher.emails:
        domain = email.email.rsplit("@", 1)[-1].lower()
        if email.verified and domain not in PERSONAL_DOMAINS:
            seen.setdefault(domain, researcher.created)
    return list(seen.items())


def _end_key(item: Item, today: _dt.date) -> tuple[int, int, int]:
    data = item.data
    end = data.get("end_date")
    if item.section == "distinction" and (data.get("start_date") or {}).get("year"):
        end = data["start_date"]  # SummaryManagerImpl.java:603-605
    if not end or not end.get("year"):
        return (today.year, today.month, today.day)
    return (int(end["year"]), int(end.get("month") or 0), int(end.get("day") or 0))


def _affiliations(researcher: Researcher, sections: tuple[str, ...],
                  today: _dt.date) -> list[Item]:
    found = [i for s in sections for i in researcher.items.get(s, {}).values()
             if i.visibility == "public"]
    return sorted(found, key=lambda i: (_end_key(i, today), i.put_code), reverse=True)


def _validated(item: Item, researcher: Researcher) -> bool:
    return item.source_orcid != researcher.orcid


def _work_counts(researcher: Researcher) -> tuple[int, int]:
    works = [i for i in researcher.items.get("work", {}).values() if i.visibility == "public"]
    validated = 0
    groups = group_items(sorted(works, key=lambda i: i.put_code))
    for members, _ids in groups:
        if any(_validated(i, researcher) for i in members):
            validated += 1
    return validated, len(groups) - validated


def _display_name(researcher: Researcher) -> str | None:
    if researcher.name_visibility != "public":
        return None
    return researcher.credit_name or researcher.display_name or None


def _today() -> _dt.date:
    return _dt.datetime.fromtimestamp(state().now(), _dt.UTC).date()


def _last_modified(researcher: Researcher) -> float:
    return max([researcher.created, *(i.modified for i in researcher.all_items())])


# -- XML ----------------------------------------------------------------------------------------
def _s(parent: etree._Element, name: str, text: Any = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{SUMMARY_NS}}}{name}")
    if text is not None:
        el.text = str(text).lower() if isinstance(text, bool) else str(text)
    return el


def _xml_affiliations(root: etree._Element, container: str, element: str,
                      items: list[Item], researcher: Researcher) -> None:
    # ORCID writes the container with its count even when it is 0 (SummaryManagerImpl.java:
    # 327-333); the XSD wants at least one entry then, so such a document fails it.
    box = _s(root, container)
    _s(box, "count", len(items))
    for item in items[:3]:
        data = item.data
        el = _s(box, element)
        _s(el, "put-code", item.put_code)
        _s(el, "type", item.section)
        _s(el, "organization-name", (data.get("organization") or {}).get("name"))
        if data.get("role_title"):
            _s(el, "role", data["role_title"])
        if data.get("url"):
            _s(el, "url", data["url"])
        xml_date(el, "start-date", data.get("start_date"))
        xml_date(el, "end-date", data.get("end_date"))
        _s(el, "validated", _validated(item, researcher))


def summary_xml(researcher: Researcher) -> etree._Element:
    today = _today()
    root = etree.Element(f"{{{SUMMARY_NS}}}record-summary",
                         nsmap={"summary": SUMMARY_NS, "common": COMMON_NS})
    etree.SubElement(root, f"{{{COMMON_NS}}}created-date").text = iso(researcher.created)
    etree.SubElement(root, f"{{{COMMON_NS}}}last-modified-date").text = iso(
        _last_modified(researcher))
    name = _display_name(researcher)
    if name:
        _s(root, "credit-name", name)
    ident = etree.SubElement(root, f"{{{COMMON_NS}}}orcid-identifier")
    etree.SubElement(ident, f"{{{COMMON_NS}}}path").text = researcher.orcid
    etree.SubElement(ident, f"{{{COMMON_NS}}}host").text = request.host
    _xml_affiliations(root, "employments", "employment",
                      _affiliations(researcher, ("employment",), today), researcher)
    _xml_affiliations(root, "professional-activities", "professional-activity",
                      _affiliations(researcher, PROFESSIONAL, today), researcher)
    for container in ("fundings",):
        box = _s(root, container)
        _s(box, "self-asserted-count", 0)
        _s(box, "validated-count", 0)
    validated, self_asserted = _work_counts(researcher)
    works = _s(root, "works")
    _s(works, "self-asserted-count", self_asserted)
    _s(works, "validated-count", validated)
    reviews = _s(root, "peer-reviews")
    for name_ in ("peer-review-publication-grants", "self-asserted-count", "total"):
        _s(reviews, name_, 0)
    _xml_affiliations(root, "education-qualifications", "education-qualification",
                      _affiliations(researcher, EDUCATION, today), researcher)
    resources = _s(root, "research-resources")
    _s(resources, "self-asserted-count", 0)
    _s(resources, "validated-count", 0)
    domains = email_domains(researcher)
    box = _s(root, "email-domains")
    _s(box, "count", len(domains))
    for value, verified in domains[:3]:
        el = _s(box, "email-domain")
        _s(el, "value", value)
        _s(el, "verification-date", iso(verified))
    return root


# -- JSON ---------------------------------------------------------------------------------------
def _json_affiliations(items: list[Item], element: str,
                       researcher: Researcher) -> dict[str, Any]:
    return {"count": len(items), element: [{
        "put-code": item.put_code,
        "type": item.section,
        "organization-name": (item.data.get("organization") or {}).get("name"),
        "role": item.data.get("role_title"),
        "url": item.data.get("url"),
        "start-date": json_date(item.data.get("start_date")),
        "end-date": json_date(item.data.get("end_date")),
        "validated": _validated(item, researcher),
    } for item in items[:3]]}


def summary_json(researcher: Researcher) -> dict[str, Any]:
    today = _today()
    validated, self_asserted = _work_counts(researcher)
    domains = email_domains(researcher)
    base = request.host_url.rstrip("/")
    return {
        "created-date": millis(researcher.created),
        "last-modified-date": millis(_last_modified(researcher)),
        "credit-name": _display_name(researcher),
        "orcid-identifier": {"uri": f"{base}/{researcher.orcid}", "path": researcher.orcid,
                             "host": request.host},
        "external-identifiers": None,
        "employments": _json_affiliations(
            _affiliations(researcher, ("employment",), today), "employment", researcher),
        "professional-activities": _json_affiliations(
            _affiliations(researcher, PROFESSIONAL, today), "professional-activity", researcher),
        "fundings": {"self-asserted-count": 0, "validated-count": 0},
        "works": {"self-asserted-count": self_asserted, "validated-count": validated},
        "peer-reviews": {"peer-review-publication-grants": 0, "self-asserted-count": 0,
                         "total": 0},
        "education-qualifications": _json_affiliations(
            _affiliations(researcher, EDUCATION, today), "education-qualification",
            researcher),
        "research-resources": {"self-asserted-count": 0, "validated-count": 0},
        "email-domains": {"count": len(domains), "email-domain": [
            {"value": value, "verification-date": millis(verified)}
            for value, verified in domains[:3]]},
    }


@bp.route("/v3.0/<orcid>/summary", methods=["GET"])
def summary(orcid: str) -> Response:
    @api_call()
    def run(researcher: Researcher, token: Token | None, fmt: tuple[str, str]) -> Response:
        if fmt[0] == "json":
            return json_response(summary_json(researcher), fmt[1])
        return xml_response(summary_xml(researcher), fmt[1])

    try:
        with state().lock:
            summary_access(orcid)
            researcher_or_404(orcid)
    except Denied as exc:
        return exc.response
    except ApiError as exc:
        return api_error_response(exc)
    return run(orcid)

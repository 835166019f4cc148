"""``GET /<iD>``: the public record as a person sees it on orcid.org.

The name (unless the researcher hid it), then the public works (title, type, date, journal,
identifiers) and the public educations and employments, in English or Spanish. A deprecated
record names its primary record, and a locked or deactivated one says so, as orcid.org does.
Only public items are shown: a page has no token.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, render_template

from .i18n import translate
from .runtime import state
from .state import Item, Researcher

bp = Blueprint("public_page", __name__)

_ORCID = re.compile(r"(\d{4}-){3}\d{3}[\dX]")

#: Where an identifier of a known type resolves (what orcid.org links to).
_RESOLVERS = {
    "doi": "https://doi.org/",
    "handle": "https://hdl.handle.net/",
    "isbn": "https://www.worldcat.org/isbn/",
    "pmid": "https://pubmed.ncbi.nlm.nih.gov/",
    "arxiv": "https://arxiv.org/abs/",
}


def _date(value: dict[str, Any] | None) -> str:
    if not value or not value.get("year"):
        return ""
    return "-".join(str(p) for p in (value.get("year"), value.get("month"), value.get("day")) if p)


def _identifier(ext: dict[str, Any]) -> dict[str, str]:
    kind, value = str(ext.get("type") or ""), str(ext.get("value") or "")
    url = ext.get("url") or ""
    if not url and kind in _RESOLVERS:
        url = _RESOLVERS[kind] + value
    if not url and kind == "uri":
        url = value
    safe = url if re.match(r"^https?://", url) else ""
    return {"type": kind.upper() if kind in ("doi", "isbn", "issn", "pmid", "pmc") else kind,
            "value": value, "url": safe}


def _type_label(kind: str) -> str:
    label = translate(f"type:{kind}")
    return label if label != f"type:{kind}" else kind.replace("-", " ").capitalize()


def _work(item: Item) -> dict[str, Any]:
    data = item.data
    kind = str(data.get("type") or "")
    return {
        "title": data.get("title") or "",
        "subtitle": data.get("subtitle"),
        "type": _type_label(kind),
        "date": _date(data.get("publication_date")),
        "journal": data.get("journal_title"),
        "ids": [_identifier(e) for e in data.get("external_ids", [])],
        "source": item.source_name,
    }


def _affiliation(item: Item) -> dict[str, Any]:
    data = item.data
    org = data.get("organization") or {}
    place = ", ".join(p for p in (org.get("city"), org.get("region"), org.get("country")) if p)
    start, end = _date(data.get("start_date")), _date(data.get("end_date"))
    return {
        "organization": org.get("name") or "",
        "place": place,
        "dates": f"{start or '?'} – {end or translate('present')}" if start or end else "",
        "role": " · ".join(p for p in (data.get("role_title"), data.get("department_name")) if p),
        "source": item.source_name,
    }


def _public(researcher: Researcher, section: str) -> list[Item]:
    items = researcher.items.get(section, {}).values()
    return sorted((i for i in items if i.visibility == "public"), key=lambda i: i.put_code)


def _name(researcher: Researcher) -> str | None:
    if researcher.name_visibility != "public":
        return None
    return researcher.credit_name or researcher.display_name


@bp.route("/<orcid>", methods=["GET"])
def record_page(orcid: str) -> Any:
    if not _ORCID.fullmatch(orcid):
        abort(404)
    st = state()
    with st.lock:
        researcher = st.researchers.get(orcid)
        if researcher is None:
            abort(404, description=translate("record_not_found"))
        context = {
            "orcid": orcid,
            "status": researcher.status,
            "primary": researcher.primary,
            "name": _name(researcher),
            "works": [_work(i) for i in _public(researcher, "work")],
            "educations": [_affiliation(i) for i in _public(researcher, "education")],
            "employments": [_affiliation(i) for i in _public(researcher, "employment")],
        }
    return render_template("public_record.html", **context)

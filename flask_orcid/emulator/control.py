"""Inspection and control JSON under ``/_emulator/`` (tests and the demo), and the console.

These endpoints are not ORCID's: they let a test see a record's full state (every item with
put-code, source and visibility), play the researcher (delete an item, revoke an organization),
and turn the knobs (rate limit, latency, faults, clock). Token values are never listed.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request

from .authorize import signed_in
from .i18n import translate
from .runtime import check_csrf, emulator, state
from .seed import seed, work_data
from .state import AFFILIATION_SECTIONS, SECTIONS, Fault, Item

bp = Blueprint("control", __name__)
console_bp = Blueprint("console", __name__)


def same_origin_only() -> None:
    """Refuse a state-changing request a browser sent from another origin (a page on any
    site, the repository on another port included, could otherwise reset or fault the
    emulator). Tools that send no Origin (tests, curl) are served."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("Origin")
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if origin is not None:
        parts = urlsplit(origin)
        if origin == "null" or parts.netloc != request.host or parts.scheme != request.scheme:
            abort(403, "Cross-origin requests to the emulator's control API are refused.")
    elif fetch_site not in (None, "same-origin", "none"):
        abort(403, "Cross-origin requests to the emulator's control API are refused.")


bp.before_request(same_origin_only)
console_bp.before_request(same_origin_only)


def _fuzzy(date: dict[str, Any] | None) -> str | None:
    if not date or not date.get("year"):
        return None
    return "-".join(p for p in (date.get("year"), date.get("month"), date.get("day")) if p)


def item_summary(item: Item) -> dict[str, Any]:
    data = item.data
    common = {
        "put_code": item.put_code,
        "section": item.section,
        "source_client_id": item.source_client_id,
        "source_orcid": item.source_orcid,
        "source_name": item.source_name,
        "visibility": item.visibility,
        "external_ids": [
            {"type": e["type"], "value": e["value"], "relationship": e.get("relationship")}
            for e in data.get("external_ids", [])
        ],
        "url": data.get("url"),
        "created": item.created,
        "modified": item.modified,
    }
    if item.section == "work":
        common.update({
            "title": data.get("title"),
            "subtitle": data.get("subtitle"),
            "type": data.get("type"),
            "journal_title": data.get("journal_title"),
            "short_description": data.get("short_description"),
            "publication_date": _fuzzy(data.get("publication_date")),
            "language_code": data.get("language_code"),
            "country": data.get("country"),
            "contributors": [
                {"credit_name": c.get("credit_name"), "orcid": c.get("orcid"),
                 "sequence": c.get("sequence"), "role": c.get("role")}
                for c in data.get("contributors", [])
            ],
        })
    else:
        org = data.get("organization") or {}
        common.update({
            "organization": {
                "name": org.get("name"),
                "city": org.get("city"),
                "region": org.get("region"),
                "country": org.get("country"),
                "disambiguated_id": org.get("disambiguated_id"),
                "disambiguation_source": org.get("disambiguation_source"),
            } if org else None,
            "department": data.get("department_name"),
            "role_title": data.get("role_title"),
            "start_date": _fuzzy(data.get("start_date")),
            "end_date": _fuzzy(data.get("end_date")),
        })
    return common


def researcher_json(r: Any, with_password: bool = True) -> dict[str, Any]:
    primary = next((e for e in r.emails if e.primary), r.emails[0] if r.emails else None)
    body = {
        "orcid": r.orcid,
        "given_names": r.given_names,
        "family_name": r.family_name,
        "credit_name": r.credit_name,
        "email": primary.email if primary else None,
        "emails": [vars(e).copy() for e in r.emails],
        "name_visibility": r.name_visibility,
        "default_visibility": r.default_visibility,
        "locale": r.locale,
        "status": r.status,
        "primary": r.primary,
    }
    if with_password:
        body["password"] = r.password  # test data, printed at start anyway
    return body


def record_json(orcid: str) -> dict[str, Any]:
    st = state()
    with st.lock:
        r = st.researchers.get(orcid)
        if r is None:
            abort(404, description=f"No researcher {orcid}")
        body = researcher_json(r, with_password=False)
        body["other_names"] = list(r.other_names)
        for section, plural in SECTIONS.items():
            items = sorted(r.items.get(section, {}).values(), key=lambda i: i.put_code)
            body[plural.replace("-", "_")] = [item_summary(i) for i in items]
        body["webhooks"] = [
            {"url": w.url, "client_id": w.client_id} for w in st.webhooks if w.orcid == orcid
        ]
        return body


def researcher_delete(orcid: str, section: str, put_code: int) -> bool:
    st = state()
    with st.lock:
        r = st.researchers.get(orcid)
        if r is None or section not in SECTIONS:
            return False
        if r.items.get(section, {}).pop(put_code, None) is None:
            return False
    st.record_changed(orcid)
    return True


# -- /_emulator/ ---------------------------------------------------------------------------------
@bp.route("/_emulator/reset", methods=["POST"])
def reset() -> Response:
    st = state()
    em = emulator()
    with st.lock:
        st.clear()
        seed(st)
        em.reset_knobs()
        st.save()
    em.stats.reset()
    if em.webhooks is not None:
        em.webhooks.reset()
    return jsonify({"status": "reset"})


@bp.route("/_emulator/researchers", methods=["GET"])
def researchers() -> Response:
    st = state()
    with st.lock:
        return jsonify([researcher_json(r) for r in st.researchers.values()])


@bp.route("/_emulator/researchers", methods=["POST"])
def add_researcher() -> tuple[Response, int]:
    st = state()
    data = request.get_json(silent=True) or {}
    if not data.get("given_names") or "@" not in str(data.get("email", "")):
        abort(400, description="given_names and a valid email are required")
    extra = {
        k: data[k]
        for k in ("credit_name", "other_names", "biography", "name_visibility",
                  "default_visibility", "locale", "email_verified", "email_visibility", "orcid")
        if k in data
    }
    with st.lock:
        if st.find_researcher(data["email"]) is not None:
            abort(409, description="email already registered")
        r = st.add_researcher(
            data["given_names"], data.get("family_name") or data.get("family_names"),
            data["email"], data.get("password") or "password-1", **extra,
        )
        st.save()
        return jsonify(researcher_json(r)), 201


@bp.route("/_emulator/clients", methods=["GET"])
def clients() -> Response:
    st = state()
    with st.lock:
        return jsonify([
            {"client_id": c.client_id, "name": c.name, "redirect_uris": c.redirect_uris,
             "premium": c.premium}
            for c in st.clients.values()
        ])


@bp.route("/_emulator/clients", methods=["POST"])
def add_client() -> tuple[Response, int]:
    st = state()
    data = request.get_json(silent=True) or {}
    existing = st.clients.get(str(data.get("client_id") or ""))
    if existing is not None:
        # an existing client: only its name changes (the name ORCID shows on its screens,
        # e.g. the demo client named after the repository that uses it)
        with st.lock:
            existing.name = str(data.get("name") or existing.name)
        st.save()
        return jsonify({"client_id": existing.client_id, "name": existing.name,
                        "redirect_uris": existing.redirect_uris,
                        "premium": existing.premium}), 200
    client = st.add_client(
        str(data.get("name") or "Test client"),
        list(data.get("redirect_uris") or ["http://127.0.0.1:*", "http://localhost:*"]),
        premium=bool(data.get("premium", False)),
    )
    st.save()
    return jsonify({
        "client_id": client.client_id, "client_secret": client.secret, "name": client.name,
        "redirect_uris": client.redirect_uris, "premium": client.premium,
    }), 201


@bp.route("/_emulator/records/<orcid>", methods=["GET"])
def record(orcid: str) -> Response:
    return jsonify(record_json(orcid))


@bp.route("/_emulator/records/<orcid>/<section>/<int:put_code>/delete", methods=["POST"])
def delete_item(orcid: str, section: str, put_code: int) -> Response:
    if not researcher_delete(orcid, section, put_code):
        abort(404, description="no such item")
    return jsonify({"deleted": put_code})


@bp.route("/_emulator/records/<orcid>/works", methods=["POST"])
def researcher_add_work(orcid: str) -> tuple[Response, int]:
    """Play the researcher typing a work into their own record (source: the researcher)."""
    st = state()
    body = request.get_json(silent=True) or {}
    if not body.get("title"):
        abort(400, description="title is required")
    data = work_data(str(body["title"]), "", int(body.get("year") or 2024),
                     wtype=str(body.get("type") or "dissertation-thesis"))
    data["external_ids"] = [
        {"type": x["type"], "value": x["value"], "url": x.get("url"),
         "relationship": x.get("relationship") or "self"}
        for x in body.get("external_ids") or []
    ]
    with st.lock:
        r = st.researchers.get(orcid)
        if r is None:
            abort(404, description="no such researcher")
        now = st.now()
        item = Item(put_code=st.new_put_code(), section="work", data=data,
                    visibility=r.default_visibility, created=now, modified=now,
                    source_client_id=None, source_orcid=r.orcid, source_name=r.display_name)
        r.section("work")[item.put_code] = item
        st.save()
    st.record_changed(orcid)
    return jsonify(item_summary(item)), 201


@bp.route("/_emulator/records/<orcid>/revoke", methods=["POST"])
def revoke(orcid: str) -> Response:
    data = request.get_json(silent=True) or {}
    client_id = data.get("client_id") or request.form.get("client_id")
    st = state()
    count = st.user_revoke(orcid, client_id or "")
    st.save()
    return jsonify({"revoked": count})


@bp.route("/_emulator/tokens", methods=["GET"])
def tokens() -> Response:
    st = state()
    orcid = request.args.get("orcid")
    client_id = request.args.get("client_id")
    with st.lock:
        rows = [
            {
                "id": t.id, "client_id": t.client_id, "orcid": t.orcid, "scopes": t.scopes,
                "status": st.token_status(t), "grant_type": t.grant_type,
            }
            for t in st.tokens.values()
            if (orcid is None or t.orcid == orcid) and (client_id is None or t.client_id == client_id)
        ]
    return jsonify(rows)


@bp.route("/_emulator/limits", methods=["GET", "PUT"])
def limits() -> Response:
    em = emulator()
    if request.method == "PUT":
        data = request.get_json(silent=True) or {}
        if "rate" in data:
            em.limits.rate = float(data["rate"])
        if "burst" in data:
            em.limits.burst = int(data["burst"])
        if "latency_ms" in data:
            em.limits.latency_ms = int(data["latency_ms"])
        em.bucket.reset()
    return jsonify(vars(em.limits))


@bp.route("/_emulator/faults", methods=["GET"])
def faults() -> Response:
    st = state()
    with st.lock:
        return jsonify([vars(f) for f in st.faults])


@bp.route("/_emulator/faults", methods=["POST"])
def add_fault() -> tuple[Response, int]:
    data = request.get_json(silent=True) or {}
    action = data.get("action", "status")
    if action not in ("status", "hang", "drop", "apply_then_fail"):
        abort(400, description="action must be status, hang, drop or apply_then_fail")
    try:
        re.compile(data.get("path", ".*"))
    except re.error:
        abort(400, description="path must be a regular expression")
    fault = Fault(
        action=action,
        path=data.get("path", ".*"),
        method=(data.get("method") or None),
        count=int(data.get("count", 1)),
        status=int(data["status"]) if data.get("status") is not None else None,
        retry_after=int(data["retry_after"]) if data.get("retry_after") is not None else None,
        hang_seconds=float(data["hang_seconds"]) if data.get("hang_seconds") is not None
        else None,
        then=data.get("then"),
    )
    st = state()
    with st.lock:
        st.faults.append(fault)
    return jsonify(vars(fault)), 201


@bp.route("/_emulator/faults", methods=["DELETE"])
def clear_faults() -> Response:
    st = state()
    with st.lock:
        st.faults.clear()
    return Response(status=204)


@bp.route("/_emulator/requests", methods=["GET"])
def requests_seen() -> Response:
    return jsonify(emulator().stats.as_dict())


@bp.route("/_emulator/requests", methods=["DELETE"])
def reset_requests() -> Response:
    emulator().stats.reset()
    return Response(status=204)


@bp.route("/_emulator/clock", methods=["GET", "POST"])
def clock() -> Response:
    """``{"advance": seconds}`` moves the emulator's clock (code expiry without sleeping)."""
    st = state()
    if request.method == "POST":
        data = request.get_json(silent=True) or {}
        with st.lock:
            st.clock_offset += float(data.get("advance", 0))
    return jsonify({"now": st.now(), "offset": st.clock_offset})


@bp.route("/_emulator/orgs", methods=["GET", "POST"])
def orgs() -> Response:
    st = state()
    if request.method == "POST":
        data = request.get_json(silent=True) or {}
        key = (str(data.get("source", "ROR")).upper(), str(data.get("id", "")))
        st.orgs[key] = (data.get("name", "Organization"), data.get("city", ""),
                        data.get("region"), data.get("country", "US"))
    return jsonify([
        {"source": s, "id": i, "name": v[0], "city": v[1], "region": v[2], "country": v[3]}
        for (s, i), v in st.orgs.items()
    ])


@bp.route("/_emulator/webhooks", methods=["GET"])
def webhooks() -> Response:
    em = emulator()
    st = state()
    with st.lock:
        hooks = [
            {"orcid": w.orcid, "url": w.url, "client_id": w.client_id} for w in st.webhooks
        ]
    deliveries = em.webhooks.deliveries() if em.webhooks is not None else []
    return jsonify({"webhooks": hooks, "deliveries": deliveries})


# -- the researcher's console --------------------------------------------------------------------
@console_bp.route("/console", methods=["GET"])
def console() -> Any:
    researcher = signed_in()
    if researcher is None:
        return redirect("/signin", code=302)
    st = state()
    with st.lock:
        works = [
            (i, i.data.get("title")) for i in sorted(
                researcher.items.get("work", {}).values(), key=lambda i: i.put_code)
        ]
        affiliations = [
            (i, " · ".join(p for p in (
                i.data.get("role_title"), (i.data.get("organization") or {}).get("name"))
                if p))
            for section in AFFILIATION_SECTIONS
            for i in sorted(researcher.items.get(section, {}).values(), key=lambda i: i.put_code)
        ]
        trusted = st.trusted_clients(researcher.orcid)
    return render_template(
        "console.html", researcher=researcher, trusted=trusted,
        groups=[(translate("works"), works), (translate("affiliations"), affiliations)],
    )


@console_bp.route("/console/<section>/<int:put_code>/delete", methods=["POST"])
def console_delete(section: str, put_code: int) -> Any:
    check_csrf(request.form.get("csrf_token"))
    researcher = signed_in()
    if researcher is None:
        return redirect("/signin", code=302)
    researcher_delete(researcher.orcid, section, put_code)
    return redirect("/console", code=303)


@console_bp.route("/console/revoke/<client_id>", methods=["POST"])
def console_revoke(client_id: str) -> Any:
    check_csrf(request.form.get("csrf_token"))
    researcher = signed_in()
    if researcher is None:
        return redirect("/signin", code=302)
    st = state()
    st.user_revoke(researcher.orcid, client_id)
    st.save()
    return redirect("/console", code=303)

"""Public pages: home, browse/search, the landing page with its metadata, the PDF, the switcher."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.sax.saxutils import escape

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from sqlalchemy import or_

from . import datacite, metadata
from .auth import safe_next
from .db import db
from .forms import DEGREE_LABELS, DEGREES, LANGUAGE_LABELS, ActionForm
from .licenses import license_of
from .models import PUBLISHED, WITHDRAWN, Thesis
from .orcid_setup import author_orcid, id_uri

bp = Blueprint("public", __name__)
PAGE_SIZE = 20


def index():
    recent = db.session.scalars(
        db.select(Thesis).where(Thesis.status == PUBLISHED)
        .order_by(Thesis.published_at.desc()).limit(5)
    ).all()
    total = db.session.scalar(
        db.select(db.func.count()).select_from(Thesis).where(Thesis.status == PUBLISHED)
    )
    return render_template("index.html", recent=recent, total=total, degree_labels=DEGREE_LABELS)


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


#: the page numbers the browse list accepts (ASCII digits, at most a million pages)
PAGE_NUMBER = re.compile(r"[0-9]{1,6}")


@bp.route("/theses")
def browse():
    q = (request.args.get("q") or "").strip()[:200]
    degree = request.args.get("degree", "")
    page_arg = request.args.get("page") or "1"
    if not PAGE_NUMBER.fullmatch(page_arg):
        abort(400)  # ?page=1e23, a huge number: a clear 400, never an overflow (500)
    page = max(int(page_arg), 1)
    query = db.select(Thesis).where(Thesis.status == PUBLISHED)
    for term in q.split()[:8]:
        pattern = _like(term)
        query = query.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        Thesis.title, Thesis.subtitle, Thesis.abstract, Thesis.keywords,
                        Thesis.given_names, Thesis.family_name, Thesis.department,
                    )
                )
            )
        )
    if degree in DEGREE_LABELS:
        query = query.where(Thesis.degree == degree)
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    theses = db.session.scalars(
        query.order_by(Thesis.degree_date.desc(), Thesis.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "public/browse.html", theses=theses, q=q, degree=degree, degrees=DEGREES, total=total,
        page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), degree_labels=DEGREE_LABELS,
    )


def public_thesis(thesis_id: int) -> Thesis:
    thesis = db.session.get(Thesis, thesis_id)
    if thesis is None or thesis.status not in (PUBLISHED, WITHDRAWN):
        abort(404)
    return thesis


def _author_ids(thesis: Thesis) -> tuple[str | None, str | None]:
    orcid_id = author_orcid(thesis.author)
    return orcid_id, (id_uri(orcid_id) if orcid_id else None)


@bp.route("/theses/<int:thesis_id>")
def landing(thesis_id: int):
    thesis = public_thesis(thesis_id)
    orcid_id, orcid_uri = _author_ids(thesis)
    degree_label = str(DEGREE_LABELS.get(thesis.degree, thesis.degree))
    if thesis.status == WITHDRAWN:
        response = make_response(render_template("public/withdrawn.html", thesis=thesis), 410)
        if thesis.doi:
            response.headers["Link"] = f'<https://doi.org/{thesis.doi}>; rel="cite-as"'
        return response
    html = render_template(
        "public/landing.html",
        thesis=thesis,
        orcid_id=orcid_id,
        orcid_uri=orcid_uri,
        citation=metadata.citation_text(thesis),
        meta_tags=metadata.highwire_tags(thesis, orcid_uri),
        json_ld=metadata.json_ld(thesis, orcid_id, orcid_uri, degree_label),
        pdf_available=metadata.pdf_available(thesis),
        degree_label=degree_label,
        language_label=LANGUAGE_LABELS.get(thesis.language, thesis.language),
        bibtex=metadata.bibtex(thesis),
        license=license_of(thesis.license),
    )
    response = make_response(html)
    response.headers["Link"] = metadata.signposting(thesis, orcid_uri)
    return response


@bp.route("/theses/<int:thesis_id>/metadata.jsonld")
def metadata_jsonld(thesis_id: int):
    thesis = public_thesis(thesis_id)
    if thesis.status == WITHDRAWN:
        abort(410)
    orcid_id, orcid_uri = _author_ids(thesis)
    doc = metadata.json_ld(thesis, orcid_id, orcid_uri,
                           str(DEGREE_LABELS.get(thesis.degree, thesis.degree)))
    return Response(json.dumps(doc, ensure_ascii=False, indent=2),
                    mimetype="application/ld+json")


@bp.route("/theses/<int:thesis_id>/datacite.xml")
def metadata_datacite(thesis_id: int):
    """DataCite Metadata Schema 4.7 XML (docs/exports.md); a thesis without a DOI has none."""
    thesis = public_thesis(thesis_id)
    if thesis.status == WITHDRAWN:
        abort(410)
    if not thesis.doi:
        abort(404)
    return Response(datacite.document(thesis), mimetype=metadata.DATACITE_MEDIA_TYPE)


@bp.route("/theses/<int:thesis_id>/citation.bib")
def metadata_bibtex(thesis_id: int):
    thesis = public_thesis(thesis_id)
    if thesis.status == WITHDRAWN:
        abort(410)
    return Response(metadata.bibtex(thesis), mimetype="application/x-bibtex")


@bp.route("/theses/<int:thesis_id>/thesis.pdf")
def pdf(thesis_id: int):
    thesis = public_thesis(thesis_id)
    if not metadata.pdf_available(thesis):
        abort(404)
    path = Path(current_app.config["UPLOAD_FOLDER"]) / thesis.pdf_file
    response = send_file(path, mimetype="application/pdf",
                         download_name=f"etd-{thesis.id}.pdf")
    response.headers["Link"] = (
        f'<{url_for("public.landing", thesis_id=thesis.id, _external=True)}>; rel="collection"'
    )
    return response


@bp.route("/sitemap.xml")
def sitemap():
    """Every published landing page, for search engines (Google Scholar's inclusion guidelines
    ask repositories for a browse interface or a sitemap)."""
    rows = db.session.execute(
        db.select(Thesis.id, Thesis.updated_at).where(Thesis.status == PUBLISHED)
        .order_by(Thesis.id)
    ).all()
    urls = "".join(
        f"<url><loc>{escape(url_for('public.landing', thesis_id=tid, _external=True))}</loc>"
        f"<lastmod>{updated.date().isoformat()}</lastmod></url>"
        for tid, updated in rows
    )
    body = ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')
    return Response(body, mimetype="application/xml")


@bp.route("/lang/<code>", methods=("GET", "POST"))
def set_language(code: str):
    """The language switcher (a POST form in the top bar, working without JavaScript).

    A GET (a shared link) changes this browser's session only; the choice is saved on the
    account only by the switcher's POST, which carries the CSRF token: no state change on GET.
    """
    if request.method == "POST" and not ActionForm().validate_on_submit():
        abort(400)
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if request.method == "POST" and g.get("user") is not None:
            g.user.locale = code
            db.session.commit()
    target = request.form.get("next") if request.method == "POST" else request.args.get("next")
    return redirect(safe_next(target, url_for("index")))

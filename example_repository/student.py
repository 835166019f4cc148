"""The student's side: dashboard, the explained ORCID step, the deposit form, drafts, submission."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from flask_orcid.checks import verify_connection

from . import licenses
from .auth import login_required
from .db import db
from .forms import DEGREE_LABELS, LANGUAGE_LABELS, ThesisForm
from .invitees import apply_people, send_invitations, subject_of
from .models import DRAFT, SUBMITTED, Thesis, utcnow
from .orcid_setup import author_orcid, orcid
from .prefill import Prefill, thesis_prefill

log = logging.getLogger(__name__)
bp = Blueprint("student", __name__)


def own_thesis(thesis_id: int) -> Thesis:
    thesis = db.session.get(Thesis, thesis_id)
    if thesis is None or thesis.author_id != g.user.id:
        abort(404)
    return thesis


@bp.route("/my")
@login_required
def dashboard():
    account = orcid.get_account(g.user.key)
    # ORCID's advice: check the permission with the stored token before saying "connected"
    # (cached for a few minutes; a refusal marks the connection for a new sign-in).
    connection = verify_connection(account) if account is not None else None
    return render_template(
        "student/dashboard.html",
        theses=g.user.theses,
        orcid_id=author_orcid(g.user),
        orcid_connection=connection,
        degree_labels=DEGREE_LABELS,
    )


@bp.route("/submit")
@login_required
def start():
    """Step 1: what ORCID is and why the graduate school asks. Skippable."""
    orcid_id = author_orcid(g.user)
    if orcid_id is not None:
        return redirect(url_for("student.new_thesis"))
    return render_template("student/orcid_step.html")


def _upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _store_pdf(form: ThesisForm) -> tuple[str, str, int] | None:
    """Save an uploaded (already checked) PDF under a random name; return (file, name, size)."""
    storage = form.pdf.data
    if not storage or not getattr(storage, "filename", None) or form.pdf.errors:
        return None
    name = f"{uuid.uuid4().hex}.pdf"
    path = _upload_dir() / name
    storage.save(path)
    original = Path(storage.filename).name[:255] or "thesis.pdf"
    return name, original, path.stat().st_size


def _remove_pdf(name: str | None) -> None:
    if name:
        (_upload_dir() / name).unlink(missing_ok=True)


#: ThesisForm fields stored as they are on the Thesis row (advisors and the PDF aside).
THESIS_FIELDS = (
    "given_names", "family_name", "email", "department", "title",
    "subtitle", "abstract", "keywords", "language", "degree", "program_start",
    "degree_date", "embargo_until", "license",
)


def _apply(form: ThesisForm, thesis: Thesis) -> list:
    for field in THESIS_FIELDS:
        value = getattr(form, field).data
        if isinstance(value, str):
            value = value.strip()
        setattr(thesis, field, value)
    thesis.license = thesis.license or None
    if form.agreement.data and thesis.agreement_accepted_at is None:
        thesis.agreement_accepted_at = utcnow()
    elif not form.agreement.data:
        thesis.agreement_accepted_at = None
    return apply_people(form, thesis)


def _form_data(thesis: Thesis) -> dict:
    data = {field: getattr(thesis, field) for field in THESIS_FIELDS}
    data["advisors"] = [{"name": a.name, "orcid": a.orcid or "", "role": a.role,
                         "email": a.email or ""} for a in thesis.advisors]
    data["agreement"] = thesis.agreement_accepted_at is not None
    return data


def _handle(form: ThesisForm, thesis: Thesis | None):
    """Save (draft) or submit. Returns a response, or None to re-render the form."""
    pending = session.get("pending_pdf")
    if not form.validate_on_submit():
        # Keep a good PDF even when another field needs fixing: nothing the student sent is lost.
        stored = _store_pdf(form)
        if stored:
            if pending:
                _remove_pdf(pending[0])
            session["pending_pdf"] = list(stored)
        if form.submit.data:
            # Report everything missing for submission in this same round, not one at a time.
            has_pdf = bool(stored or session.get("pending_pdf") or (thesis and thesis.pdf_file))
            form.check_complete(has_pdf=has_pdf)
        return None
    stored = _store_pdf(form)
    if stored is None and pending:
        stored = tuple(pending)
    session.pop("pending_pdf", None)

    if thesis is None:
        thesis = Thesis(author=g.user, status=DRAFT)
        db.session.add(thesis)
    to_invite = _apply(form, thesis)
    if stored:
        _remove_pdf(thesis.pdf_file)
        thesis.pdf_file, thesis.pdf_name, thesis.pdf_size = stored

    if form.submit.data:
        if form.check_complete(has_pdf=bool(thesis.pdf_file)):
            thesis.status = SUBMITTED
            thesis.submitted_at = utcnow()
            db.session.commit()
            send_invitations(thesis, to_invite, g.user)
            flash(
                _("Thank you. Your thesis was submitted; the graduate school will review it."),
                "success",
            )
            return redirect(url_for("student.dashboard"))
        db.session.commit()
        send_invitations(thesis, to_invite, g.user)
        flash(_("Your draft is saved, but some details are missing before you can submit."),
              "warning")
        return None
    db.session.commit()
    send_invitations(thesis, to_invite, g.user)
    flash(_("Draft saved."), "success")
    return redirect(url_for("student.edit_thesis", thesis_id=thesis.id))


@bp.route("/submit/form", methods=("GET", "POST"))
@login_required
def new_thesis():
    """Step 2: the deposit form, prefilled from the ORCID record when the student connected."""
    orcid_id = author_orcid(g.user)
    # Read the record once, to show the form; a POST carries what the student wrote.
    prefill = _prefill_for(g.user, orcid_id) if request.method == "GET" else Prefill()
    form = ThesisForm(data=prefill.data if request.method == "GET" else None)
    form.set_license_choices(licenses.offered())
    response = _handle(form, None)
    if response is not None:
        return response
    return render_template("student/thesis_form.html", form=form, thesis=None, orcid_id=orcid_id,
                           pending_pdf=session.get("pending_pdf"), sources=prefill.sources)


@bp.route("/my/theses/<int:thesis_id>/edit", methods=("GET", "POST"))
@login_required
def edit_thesis(thesis_id: int):
    thesis = own_thesis(thesis_id)
    if not thesis.editable_by_student:
        flash(_("This thesis is with the graduate school and can no longer be edited."), "info")
        return redirect(url_for("student.view_thesis", thesis_id=thesis.id))
    form = ThesisForm(data=_form_data(thesis))
    form.set_license_choices(licenses.offered())
    response = _handle(form, thesis)
    if response is not None:
        return response
    return render_template("student/thesis_form.html", form=form, thesis=thesis,
                           orcid_id=author_orcid(g.user), pending_pdf=session.get("pending_pdf"),
                           invitations=orcid.invitations_for(subject_of(thesis)))


@bp.route("/my/theses/<int:thesis_id>")
@login_required
def view_thesis(thesis_id: int):
    thesis = own_thesis(thesis_id)
    return render_template(
        "student/thesis_view.html",
        thesis=thesis,
        orcid_id=author_orcid(g.user),
        invitations=orcid.invitations_for(subject_of(thesis)),
        degree_labels=DEGREE_LABELS,
        language_labels=LANGUAGE_LABELS,
    )


@bp.route("/my/theses/<int:thesis_id>/file.pdf")
@login_required
def own_pdf(thesis_id: int):
    thesis = own_thesis(thesis_id)
    if not thesis.pdf_file:
        abort(404)
    return send_file(_upload_dir() / thesis.pdf_file, mimetype="application/pdf",
                     download_name=thesis.pdf_name or "thesis.pdf")


def _prefill_for(user, orcid_id: str | None) -> Prefill:  # noqa: ANN001
    """Form defaults: the ORCID record first (when connected), the local account second.
    ``sources`` names only what came from ORCID, for the form to say so."""
    record = orcid.read_record_for_prefill(user.key) if orcid_id is not None else None
    if orcid_id is not None and record is None:
        # flask-orcid logged why; the form works without prefill.
        flash(
            _("We could not read your ORCID record just now, so the form is not prefilled. "
              "You can fill it in yourself."),
            "warning",
        )
    prefill = thesis_prefill(record)
    data = prefill.data
    data.setdefault("given_names", user.given_names)
    data.setdefault("family_name", user.family_name)
    data.setdefault("email", user.email)
    # most theses are written in the language the student uses the site in
    data.setdefault("language", str(get_locale()))
    return prefill


"""The graduate school's side: review queue, accept & publish, return, edit, withdraw, sync state."""

from __future__ import annotations

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
    url_for,
)
from flask_babel import gettext as _

from . import deposit
from .auth import admin_required
from .db import db
from .forms import (
    DEGREE_LABELS,
    LANGUAGE_LABELS,
    ROLE_LABELS,
    AdminEditForm,
    InviteForm,
    ReviewForm,
    WithdrawForm,
)
from .invitees import flash_sent, invite_person, open_invitation, subject_of
from .models import CHANGES_REQUESTED, PUBLISHED, STATUSES, SUBMITTED, Advisor, Thesis
from .orcid_setup import author_orcid, author_trust, orcid

bp = Blueprint("admin", __name__, url_prefix="/admin")


def get_thesis(thesis_id: int) -> Thesis:
    thesis = db.session.get(Thesis, thesis_id)
    if thesis is None:
        abort(404)
    return thesis


@bp.route("/")
@admin_required
def queue():
    status = request.args.get("status", SUBMITTED)
    query = db.select(Thesis).order_by(Thesis.submitted_at.desc(), Thesis.id.desc())
    if status in STATUSES:
        query = query.where(Thesis.status == status)
    theses = db.session.scalars(query).all()
    counts = dict(
        db.session.execute(db.select(Thesis.status, db.func.count()).group_by(Thesis.status)).all()
    )
    states = {t.id: deposit.sync_state(t) for t in theses}
    return render_template(
        "admin/queue.html", theses=theses, status=status, counts=counts, states=states,
        degree_labels=DEGREE_LABELS,
    )


@bp.route("/theses/<int:thesis_id>", methods=("GET", "POST"))
@admin_required
def review(thesis_id: int):
    thesis = get_thesis(thesis_id)
    review_form = ReviewForm(prefix="review")
    if thesis.status == SUBMITTED and review_form.validate_on_submit():
        thesis.review_note = (review_form.note.data or "").strip() or None
        if review_form.accept.data:
            deposit.publish(thesis)
            db.session.commit()
            if thesis.is_embargoed():
                flash(_("Published. The PDF and the ORCID deposit wait for the embargo to end "
                        "(%(date)s).", date=thesis.embargo_until.isoformat()), "success")
            elif thesis.sent_to_orcid and orcid.approval_required:
                flash(_("Published with DOI %(doi)s. The thesis and the degree go to the "
                        "author's ORCID record once the author approves them on their page.",
                        doi=thesis.doi), "success")
            elif thesis.sent_to_orcid:
                flash(_("Published with DOI %(doi)s. The thesis and the degree are on their way "
                        "to the author's ORCID record.", doi=thesis.doi), "success")
            else:
                flash(_("Published with DOI %(doi)s. The author has not connected an ORCID iD; "
                        "it will be sent if they connect one.", doi=thesis.doi), "success")
        else:
            thesis.status = CHANGES_REQUESTED
            db.session.commit()
            flash(_("Returned to the student for changes."), "info")
        return redirect(url_for("admin.review", thesis_id=thesis.id))
    return render_template(
        "admin/review.html",
        thesis=thesis,
        review_form=review_form,
        edit_form=AdminEditForm(obj=thesis, prefix="edit"),
        withdraw_form=WithdrawForm(prefix="withdraw"),
        orcid_id=author_orcid(thesis.author),
        trust=author_trust(thesis.author),
        state=deposit.sync_state(thesis),
        degree_labels=DEGREE_LABELS,
        language_labels=LANGUAGE_LABELS,
        **_people_context(thesis),
    )


def _people_context(thesis: Thesis) -> dict:
    """The people on the thesis, an invitation form for each one not yet confirmed, and the
    invitations sent so far (for the review page)."""
    forms = {}
    for person in thesis.advisors:
        if not person.orcid_authenticated and open_invitation(thesis, person) is None:
            forms[person.id] = InviteForm(prefix=f"invite{person.id}",
                                          data={"email": person.email or ""})
    return {"invite_forms": forms, "invitations": orcid.invitations_for(subject_of(thesis)),
            "role_labels": ROLE_LABELS}


@bp.route("/theses/<int:thesis_id>/people/<int:person_id>/invite", methods=("POST",))
@admin_required
def invite(thesis_id: int, person_id: int):
    """The graduate school invites one person on the thesis to confirm their iD."""
    thesis = get_thesis(thesis_id)
    person = db.session.get(Advisor, person_id)
    if person is None or person.thesis_id != thesis.id:
        abort(404)
    form = InviteForm(prefix=f"invite{person.id}")
    if person.orcid_authenticated:
        flash(_("%(name)s already confirmed their ORCID iD.", name=person.name), "info")
    elif form.validate_on_submit():
        person.email = form.email.data.strip()
        db.session.commit()
        flash_sent(person, invite_person(thesis, person, person.email, form.lang.data, g.user))
    else:
        flash(_("Give a valid email address to send the invitation."), "warning")
    return redirect(url_for("admin.review", thesis_id=thesis.id) + "#people")


@bp.route("/theses/<int:thesis_id>/edit", methods=("POST",))
@admin_required
def edit(thesis_id: int):
    thesis = get_thesis(thesis_id)
    form = AdminEditForm(prefix="edit")
    if thesis.status != PUBLISHED:
        abort(409)
    if form.validate_on_submit():
        form.populate_obj(thesis)
        thesis.subtitle = thesis.subtitle or None
        deposit.updated(thesis)
        db.session.commit()
        flash(_("Saved. The ORCID record follows the change."), "success")
        return redirect(url_for("admin.review", thesis_id=thesis.id))
    return render_template(
        "admin/review.html",
        thesis=thesis,
        review_form=ReviewForm(prefix="review"),
        edit_form=form,
        withdraw_form=WithdrawForm(prefix="withdraw"),
        orcid_id=author_orcid(thesis.author),
        trust=author_trust(thesis.author),
        state=deposit.sync_state(thesis),
        degree_labels=DEGREE_LABELS,
        language_labels=LANGUAGE_LABELS,
        **_people_context(thesis),
    ), 400


@bp.route("/theses/<int:thesis_id>/withdraw", methods=("POST",))
@admin_required
def withdraw(thesis_id: int):
    thesis = get_thesis(thesis_id)
    form = WithdrawForm(prefix="withdraw")
    if thesis.status != PUBLISHED:
        abort(409)
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        if form.rescinded.data:
            reason = _("Degree rescinded: %(reason)s", reason=reason)
        thesis.review_note = reason
        on_record = thesis.sent_to_orcid
        # coupled: a withdrawn thesis or a rescinded degree takes both items off the record
        deposit.withdraw(thesis)
        db.session.commit()
        if on_record:
            flash(_("Withdrawn. Its page now says so, and the thesis and the degree are being "
                    "removed from the author's ORCID record."), "info")
        elif thesis.orcid_left_on_record:
            flash(_("Withdrawn. Its page now says so. The items stay on the author's ORCID "
                    "record: the author has disconnected, so only they can remove them."), "info")
        else:
            flash(_("Withdrawn. Its page now says so."), "info")
    else:
        flash(_("Give a reason for the withdrawal."), "warning")
    return redirect(url_for("admin.review", thesis_id=thesis.id))


@bp.route("/theses/<int:thesis_id>/file.pdf")
@admin_required
def pdf(thesis_id: int):
    thesis = get_thesis(thesis_id)
    if not thesis.pdf_file:
        abort(404)
    path = Path(current_app.config["UPLOAD_FOLDER"]) / thesis.pdf_file
    return send_file(path, mimetype="application/pdf", download_name=thesis.pdf_name or "thesis.pdf")

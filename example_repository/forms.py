"""WTForms (Flask-WTF, so every POST carries a CSRF token) for accounts, submission and review."""

from __future__ import annotations

import datetime as dt
import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from flask_orcid.forms import ORCIDIdValidator

try:  # WTForms >= 3.3 deprecates (value, label) tuples for select choices
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def choices(pairs: list[tuple[str, object]]) -> list:
    if SelectChoice is None:  # pragma: no cover
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an email address like name@example.edu."))

#: Degrees the graduate school awards (code, label). The label is what goes to ORCID as role title.
DEGREES = [
    ("phd", _l("Doctor of Philosophy (PhD)")),
    ("edd", _l("Doctor of Education (EdD)")),
    ("mphil", _l("Master of Philosophy (MPhil)")),
    ("ms", _l("Master of Science (MS)")),
    ("ma", _l("Master of Arts (MA)")),
    ("mfa", _l("Master of Fine Arts (MFA)")),
]
DEGREE_LABELS = {code: label for code, label in DEGREES}

#: Languages a thesis may be written in (ISO 639-1, accepted by ORCID's language-code list).
THESIS_LANGUAGES = [
    ("en", _l("English")),
    ("es", _l("Spanish")),
    ("pt", _l("Portuguese")),
    ("fr", _l("French")),
    ("de", _l("German")),
    ("it", _l("Italian")),
    ("ca", _l("Catalan")),
]
LANGUAGE_LABELS = {code: label for code, label in THESIS_LANGUAGES}

PDF_MAGIC = b"%PDF-"


class ActionForm(FlaskForm):
    """An empty form: a CSRF-protected button (log out, accept, withdraw, ...)."""


class RegisterForm(FlaskForm):
    given_names = StringField(_l("Given names"), validators=[DataRequired(), Length(max=150)])
    family_name = StringField(_l("Family name"), validators=[DataRequired(), Length(max=150)])
    email = StringField(_l("University email"), validators=[DataRequired(), EMAIL, Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(min=8, message=_l("Use at least 8 characters.")),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Create account"))


class LoginForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), EMAIL])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Log in"))


#: What a person named on a thesis did (``models.CONTRIBUTOR_ROLES``), as the forms say it.
ROLE_CHOICES = [
    ("advisor", _l("Advisor")),
    ("committee_member", _l("Committee member")),
    ("co_author", _l("Co-author")),
]
ROLE_LABELS = {code: label for code, label in ROLE_CHOICES}

#: The languages an invitation email can be written in (the extension's catalogs).
INVITATION_LANGUAGES = [("en", "English"), ("es", "Español")]


class AdvisorForm(Form):
    """One person on the thesis. Their iD is typed in: checked for shape and check digit,
    never trusted; an email lets the site invite them to confirm it through ORCID."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=150)])
    role = SelectField(_l("Role"), choices=choices(ROLE_CHOICES), default="advisor")
    email = StringField(_l("Email (for an invitation)"),
                        validators=[Optional(), EMAIL, Length(max=254)])
    orcid = StringField(
        _l("ORCID iD (optional)"),
        validators=[Optional(), ORCIDIdValidator()],
    )
    invite = BooleanField(_l("Email them a link to confirm their ORCID iD"))
    invite_lang = SelectField(_l("Language of the email"),
                              choices=choices(INVITATION_LANGUAGES), default="en")

    def validate_orcid(self, field: StringField) -> None:
        if field.data and not (self.name.data or "").strip():
            raise ValidationError(_l("Give the person's name with their iD."))

    def validate_invite(self, field: BooleanField) -> None:
        if field.data and not (self.email.data or "").strip():
            raise ValidationError(_l("Give their email to send an invitation."))


class InviteForm(FlaskForm):
    """The admin's invitation of one person on a thesis (the review page)."""

    email = StringField(_l("Email"), validators=[DataRequired(), EMAIL, Length(max=254)])
    lang = SelectField(_l("Language of the email"), choices=choices(INVITATION_LANGUAGES),
                       default="en")
    send = SubmitField(_l("Send invitation"))


def _year_month(form: FlaskForm, field: StringField) -> None:
    if field.data and not re.fullmatch(r"(19|20)\d\d(-(0[1-9]|1[0-2]))?", field.data.strip()):
        raise ValidationError(_l("Write the year, or year and month, like 2021 or 2021-09."))


class ThesisForm(FlaskForm):
    """The deposit form. Drafts may be incomplete; :meth:`check_complete` applies on submit."""

    given_names = StringField(_l("Given names"), validators=[Optional(), Length(max=150)])
    family_name = StringField(_l("Family name"), validators=[Optional(), Length(max=150)])
    email = StringField(_l("Email"), validators=[Optional(), EMAIL, Length(max=254)])
    department = StringField(_l("Program or department"), validators=[Optional(), Length(max=300)])

    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Give your thesis a title.")), Length(max=1000)]
    )
    subtitle = StringField(_l("Subtitle"), validators=[Optional(), Length(max=1000)])
    abstract = TextAreaField(_l("Abstract"), validators=[Optional(), Length(max=5000)])
    keywords = StringField(
        _l("Keywords"),
        validators=[Optional(), Length(max=500)],
        description=_l("Separate keywords with commas."),
    )
    language = SelectField(_l("Language of the thesis"), choices=choices(THESIS_LANGUAGES), default="en")
    degree = SelectField(_l("Degree"), choices=choices([("", "—"), *DEGREES]), default="")
    program_start = StringField(
        _l("Program start"),
        validators=[Optional(), _year_month],
        description=_l("Year, or year and month, you started the program (e.g. 2021-09)."),
    )
    degree_date = DateField(_l("Degree date"), validators=[Optional()])
    advisors = FieldList(FormField(AdvisorForm), min_entries=3, max_entries=6)
    embargo_until = DateField(
        _l("Embargo until"),
        validators=[Optional()],
        description=_l(
            "Leave empty to make the PDF public when the thesis is published. "
            "Until this date only the description is public, and your ORCID record is "
            "updated when the embargo ends."
        ),
    )
    pdf = FileField(_l("Thesis PDF"))
    license = SelectField(
        _l("Licence"),
        choices=[],  # set from REPOSITORY_LICENSES when the form is made
        validate_choice=False,
        description=_l("How others may reuse your thesis. Creative Commons licences let "
                       "anyone share it on the stated terms; with all rights reserved they may "
                       "read it but need your permission for anything else."),
    )
    agreement = BooleanField(
        _l("I grant the graduate school the non-exclusive right to keep, copy and distribute "
           "my thesis and its description in the repository, and I confirm it is my own work "
           "and that I may grant this."),
    )

    save_draft = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit for review"))

    def validate_embargo_until(self, field: DateField) -> None:
        if field.data is None:
            return
        today = dt.date.today()
        if field.data <= today:
            raise ValidationError(_l("An embargo must end in the future."))
        if field.data > today.replace(year=today.year + 5):
            raise ValidationError(_l("An embargo can last at most five years."))

    def set_license_choices(self, licenses: list) -> None:
        """The licences the school offers (``licenses.offered()``), after an empty choice."""
        self.license.choices = choices([("", "—"), *((lic.code, lic.label) for lic in licenses)])
        self._license_codes = {lic.code for lic in licenses}

    def validate_license(self, field: SelectField) -> None:
        if field.data and field.data not in getattr(self, "_license_codes", set()):
            raise ValidationError(_l("Choose one of the licences offered."))

    def validate_degree_date(self, field: DateField) -> None:
        if field.data is not None and not 1900 <= field.data.year <= 2100:
            raise ValidationError(_l("Check the year of the degree date."))

    def validate_pdf(self, field: FileField) -> None:
        """The PDF's type is read from its first bytes, never from its name or the browser's word."""
        storage = field.data
        if not storage or not getattr(storage, "filename", None):
            return
        stream = storage.stream
        head = stream.read(1024)
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        limit_mb = float(current_app.config["REPOSITORY_MAX_PDF_MB"])
        if size == 0:
            raise ValidationError(_l("The file is empty."))
        if size > limit_mb * 1024 * 1024:
            raise ValidationError(_l("The PDF is larger than %(mb)s MB.", mb=f"{limit_mb:g}"))
        # Strict: the file must start with the PDF header (readers tolerate leading junk, but
        # that is how polyglot files get in).
        if not head.startswith(PDF_MAGIC):
            raise ValidationError(_l("This file is not a PDF. Upload your thesis as a PDF file."))

    def has_problems(self) -> bool:
        """Any field (advisors included) carrying an error, for the summary at the top."""
        for field in self:
            if isinstance(field, FieldList):
                if any(any(sub.errors for sub in entry.form) for entry in field.entries):
                    return True
            elif field.errors and field.name != "csrf_token":
                return True
        return False

    def check_complete(self, has_pdf: bool) -> bool:
        """Everything the graduate school needs before review; adds errors to the fields."""
        required = {
            self.given_names: _l("Give your given names."),
            self.family_name: _l("Give your family name."),
            self.email: _l("Give your email."),
            self.abstract: _l("Add the abstract."),
            self.degree: _l("Choose the degree."),
            self.department: _l("Give your program or department."),
            self.program_start: _l("Give the year you started the program."),
            self.degree_date: _l("Give the degree date."),
            self.license: _l("Choose a licence."),
        }
        ok = True
        for field, message in required.items():
            value = field.data
            if value is None or (isinstance(value, str) and not value.strip()):
                field.errors = [*field.errors, message]
                ok = False
        if not self.agreement.data:
            self.agreement.errors = [*self.agreement.errors,
                                     _l("Accept the distribution agreement to submit.")]
            ok = False
        if not any((a.form.name.data or "").strip() for a in self.advisors):
            self.advisors.entries[0].form.name.errors = [
                *self.advisors.entries[0].form.name.errors,
                _l("Name at least one advisor."),
            ]
            ok = False
        if not has_pdf:
            if not self.pdf.errors:  # a refused file already says what to do
                self.pdf.errors = [*self.pdf.errors, _l("Upload the PDF of your thesis.")]
            ok = False
        return ok

    def problems(self) -> list[tuple[str, str, str]]:
        """Every field with an error, in form order, as (field id, label, first message): the
        summary at the top of the form links to each one."""
        found: list[tuple[str, str, str]] = []
        for field in self:
            if isinstance(field, FieldList):
                for entry in field.entries:
                    for sub in entry.form:
                        if sub.errors:
                            found.append((sub.id, str(sub.label.text), str(sub.errors[0])))
            elif field.errors and field.name != "csrf_token":
                found.append((field.id, str(field.label.text), str(field.errors[0])))
        return found

    def refused_file(self) -> str | None:
        """The name of an uploaded file that was refused, to say which one."""
        storage = self.pdf.data
        name = getattr(storage, "filename", None) if self.pdf.errors else None
        return str(name) if name else None


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("Note to the student"), validators=[Optional(), Length(max=2000)])
    accept = SubmitField(_l("Accept and publish"))
    request_changes = SubmitField(_l("Return for changes"))


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    rescinded = BooleanField(_l("The degree was rescinded (the thesis and the degree leave the "
                                "author's ORCID record together)"))
    withdraw = SubmitField(_l("Withdraw thesis"))


class AdminEditForm(FlaskForm):
    """What the graduate school may correct after publication (the ORCID work follows)."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=1000)])
    subtitle = StringField(_l("Subtitle"), validators=[Optional(), Length(max=1000)])
    abstract = TextAreaField(_l("Abstract"), validators=[DataRequired(), Length(max=5000)])
    keywords = StringField(_l("Keywords"), validators=[Optional(), Length(max=500)])
    language = SelectField(_l("Language of the thesis"), choices=choices(THESIS_LANGUAGES))
    department = StringField(_l("Program or department"),
                             validators=[DataRequired(), Length(max=300)])
    degree_date = DateField(_l("Degree date"), validators=[DataRequired()])
    embargo_until = DateField(_l("Embargo until"), validators=[Optional()])
    save = SubmitField(_l("Save changes"))

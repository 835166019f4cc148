"""Collect: ORCID record -> form data -> WTForms, and reading what prefill needs from the emulator.

The mapping and form tests build records in memory (what the parsers return); the reading tests
run against the real emulator over HTTP and count what reached it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, FormField, SelectField, StringField
from wtforms.fields import FieldList

from flask_orcid import AffiliationSummary, Email, FuzzyDate, Organization, Record
from flask_orcid.prefill import (
    DEFAULT_PREFILL_KEYS,
    current_affiliation,
    prefill_data,
    prefill_email,
    prefill_form,
)

ROR = "https://ror.org/05gq02987"
TODAY = dt.date.today()


def org(name: str, ror: str | None = ROR, source: str = "ROR") -> Organization:
    return Organization(
        name=name,
        city="Providence",
        country="US",
        disambiguated_id=ror,
        disambiguation_source=source if ror else None,
    )


def aff(
    section: str,
    name: str,
    start: str | None = None,
    end: str | None = None,
    *,
    department: str | None = None,
    role: str | None = None,
    organization: Organization | None = None,
) -> AffiliationSummary:
    return AffiliationSummary(
        put_code=None,
        section=section,
        organization=organization or org(name),
        department=department,
        role_title=role,
        start_date=FuzzyDate.parse(start) if start else None,
        end_date=FuzzyDate.parse(end) if end else None,
    )


def carberry(**changes: object) -> Record:
    record = Record(
        orcid="0000-0002-1825-0097",
        given_names="Josiah",
        family_name="Carberry",
        credit_name="J. S. Carberry",
        emails=[
            Email("old@example.edu", primary=False, verified=True),
            Email("josiah@example.edu", primary=True, verified=True),
        ],
        educations=[
            aff("education", "Wesleyan University", "1990-09", "1994-06", role="BA"),
            aff(
                "education",
                "Brown University",
                "2021-09",
                None,
                department="Psychoceramics",
                role="PhD candidate",
            ),
        ],
        employments=[aff("employment", "Acme Pottery", "2015", None, role="Glazer")],
    )
    for key, value in changes.items():
        setattr(record, key, value)
    return record


# --------------------------------------------------------------------------- prefill_data


def test_default_keys_from_a_full_record() -> None:
    data = prefill_data(carberry())
    assert data == {
        "given_names": "Josiah",
        "family_name": "Carberry",
        "credit_name": "J. S. Carberry",
        "email": "josiah@example.edu",
        "orcid": "0000-0002-1825-0097",
        "institution": "Brown University",
        "department": "Psychoceramics",
        "institution_ror": ROR,
        "role_title": "PhD candidate",
    }
    assert set(data) == set(DEFAULT_PREFILL_KEYS)


def test_missing_values_are_left_out_not_prefilled_as_none() -> None:
    record = Record(orcid="0000-0002-1825-0097", given_names="Ana", family_name=None)
    assert prefill_data(record) == {"given_names": "Ana", "orcid": "0000-0002-1825-0097"}


@pytest.mark.parametrize(
    ("emails", "expected"),
    [
        # the primary address, when verified
        ([Email("a@x.org", False, True), Email("p@x.org", True, True)], "p@x.org"),
        # an unverified primary is skipped for the first verified one
        ([Email("p@x.org", True, False), Email("v1@x.org", False, True)], "v1@x.org"),
        ([Email("v1@x.org", False, True), Email("v2@x.org", False, True)], "v1@x.org"),
        # nothing verified: no email at all rather than a possibly wrong one
        ([Email("p@x.org", True, False), Email("q@x.org", False, False)], None),
        ([], None),
    ],
)
def test_email_choice(emails: list[Email], expected: str | None) -> None:
    assert prefill_email(emails) == expected
    assert prefill_data(carberry(emails=emails)).get("email") == expected


def test_current_education_is_the_ongoing_one_with_the_latest_start() -> None:
    record = carberry(
        educations=[
            aff("education", "Old Ongoing", "2001", None),
            aff("education", "Newest Ongoing", "2022-01", None),
            aff("education", "Finished Late", "2019", "2023-05"),
        ]
    )
    assert current_affiliation(record).organization.name == "Newest Ongoing"


def test_an_expected_graduation_in_the_future_counts_as_current() -> None:
    future = f"{TODAY.year + 2}-06"
    record = carberry(
        educations=[
            aff("education", "Finished", "2010", "2014"),
            aff("education", "Graduating", "2023", future),
        ]
    )
    assert prefill_data(record)["institution"] == "Graduating"


def test_without_an_ongoing_education_the_latest_ended_one_is_used() -> None:
    record = carberry(
        educations=[
            aff("education", "Master's", "2016", "2018-06"),
            aff("education", "Bachelor's", "2012", "2016"),
        ]
    )
    assert prefill_data(record)["institution"] == "Master's"


def test_employment_is_used_only_without_any_education() -> None:
    record = carberry(educations=[])
    data = prefill_data(record)
    assert data["institution"] == "Acme Pottery" and data["role_title"] == "Glazer"
    record = carberry(educations=[], employments=[])
    assert "institution" not in prefill_data(record)


def test_ror_only_when_the_organization_is_identified_by_ror() -> None:
    ringgold = org("Brown University", ror="6752", source="RINGGOLD")
    record = carberry(educations=[aff("education", "Brown", "2020", None, organization=ringgold)])
    data = prefill_data(record)
    assert data["institution"] == "Brown University" and "institution_ror" not in data


def test_mapping_names_form_fields() -> None:
    mapping = {
        "first_name": "given_names",
        "last_name": "family_name",
        "contact": "email",
        "school": "institution",
        "aliases": lambda r: ", ".join(r.other_names) or None,
        "full_name": lambda r: f"{r.given_names} {r.family_name}",
    }
    data = prefill_data(carberry(), mapping)
    assert data == {
        "first_name": "Josiah",
        "last_name": "Carberry",
        "contact": "josiah@example.edu",
        "school": "Brown University",
        "full_name": "Josiah Carberry",
    }


def test_mapping_to_an_unknown_key_says_which_keys_exist() -> None:
    with pytest.raises(KeyError, match="'first'.*'given_name'.*given_names, family_name"):
        prefill_data(carberry(), {"first": "given_name"})


# --------------------------------------------------------------------------- prefill_form


class ThesisForm(Form):
    given_names = StringField("Given names")
    family_name = StringField("Family name")
    email = StringField("Email")
    orcid = StringField("ORCID iD")
    institution = StringField("Institution")
    department = StringField("Department")
    degree = SelectField("Degree", choices=["", "phd", "ma"])


def test_a_fresh_form_gets_every_matching_empty_field() -> None:
    form = ThesisForm()
    filled = prefill_form(form, carberry())
    assert sorted(filled) == [
        "department",
        "email",
        "family_name",
        "given_names",
        "institution",
        "orcid",
    ]
    assert form.given_names.data == "Josiah"
    assert form.department.data == "Psychoceramics"
    assert 'value="Brown University"' in form.institution()


def test_values_already_in_the_form_win_over_orcid() -> None:
    # a saved draft (data=) or the host's own user record (obj=) is not overwritten
    form = ThesisForm(data={"given_names": "Joe", "email": "draft@example.org"})
    filled = prefill_form(form, carberry())
    assert form.given_names.data == "Joe" and form.email.data == "draft@example.org"
    assert "given_names" not in filled and "family_name" in filled


def test_a_submitted_form_is_never_touched_even_an_emptied_field() -> None:
    # The user cleared the email field on purpose and submitted: the empty value stays.
    formdata = MultiDict({"given_names": "Jo", "email": "", "family_name": "C."})
    form = ThesisForm(formdata)
    assert prefill_form(form, carberry()) == []
    assert form.email.data == "" and form.given_names.data == "Jo"
    assert form.institution.data in (None, "")


def test_a_form_bound_to_an_empty_get_query_is_filled() -> None:
    # Form(request.args) on a plain GET: nothing was submitted.
    form = ThesisForm(MultiDict())
    assert "given_names" in prefill_form(form, carberry())


def test_the_caller_may_decide_what_submitted_means() -> None:
    form = ThesisForm()
    assert prefill_form(form, carberry(), submitted=True) == []
    assert form.given_names.data is None


def test_prefill_from_a_dict_with_a_mapping() -> None:
    data = prefill_data(carberry())
    form = ThesisForm()
    filled = prefill_form(
        form,
        data,
        {"given_names": "given_names", "degree": lambda d: "phd" if "PhD" in d["role_title"] else None},
    )
    assert sorted(filled) == ["degree", "given_names"]
    assert form.degree.data == "phd" and form.email.data is None


def test_nested_forms_lists_and_unknown_names_are_skipped() -> None:
    class Address(Form):
        given_names = StringField()

    class Nested(Form):
        given_names = FieldList(StringField(), min_entries=1)
        address = FormField(Address)
        email = StringField()

    form = Nested()
    assert prefill_form(form, {"given_names": "X", "address": "Y", "email": "e@x.org", "zzz": 1}) == [
        "email"
    ]
    assert form.given_names.data == [None]


def test_prefilled_names_render_escaped() -> None:
    form = ThesisForm()
    prefill_form(form, carberry(given_names='"><script>alert(1)</script>'))
    html = form.given_names()
    assert "<script>" not in html and "&lt;script&gt;" in html


# Flask-WTF: is_submitted() follows the request method.


class FlaskThesisForm(FlaskForm):
    given_names = StringField("Given names")
    email = StringField("Email")


@pytest.fixture
def wtf_app() -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="prefill-tests")
    return app


def test_flask_wtf_form_on_get_is_filled_and_keeps_its_csrf_token(wtf_app: Flask) -> None:
    with wtf_app.test_request_context("/deposit", method="GET"):
        form = FlaskThesisForm()
        token = form.csrf_token.current_token
        assert prefill_form(form, {"given_names": "Josiah", "csrf_token": "forged"}) == [
            "given_names"
        ]
        html = render_template_string("{{ form.given_names() }}{{ form.csrf_token() }}", form=form)
    assert 'value="Josiah"' in html and token in html and "forged" not in html


def test_flask_wtf_form_on_post_is_left_alone(wtf_app: Flask) -> None:
    with wtf_app.test_request_context(
        "/deposit", method="POST", data={"given_names": "", "email": "typed@example.org"}
    ):
        form = FlaskThesisForm()
        assert prefill_form(form, carberry()) == []
        assert form.given_names.data == "" and form.email.data == "typed@example.org"
    # even a POST with none of the fields present (all left blank by a script) is not refilled
    with wtf_app.test_request_context("/deposit", method="POST", data={}):
        form = FlaskThesisForm()
        assert prefill_form(form, carberry()) == []

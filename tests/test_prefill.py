"""Collect: ORCID record -> form data -> WTForms, and reading what prefill needs from the emulator.

The mapping and form tests build records in memory (what the parsers return); the reading tests
run against the real emulator over HTTP and count what reached it.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from flask import Flask, render_template_string, request, session
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, FormField, SelectField, StringField
from wtforms.fields import FieldList

from flask_orcid import AffiliationSummary, Email, FuzzyDate, Organization, Record
from flask_orcid.prefill import (
    AFFILIATION_KEYS,
    DEFAULT_PREFILL_KEYS,
    HostInstitution,
    PublicTokenCache,
    current_affiliation,
    host_affiliation,
    normalize_org_name,
    prefill_data,
    prefill_email,
    prefill_form,
    prefill_sources,
    read_for_prefill,
)
from flask_orcid.protocol.client import ORCIDClient

from .plugins.app import orcid as ext

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


# --- prefill_data ---------------------------------------------------------------------------------


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


# --- prefill_form ---------------------------------------------------------------------------------


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
        {
            "given_names": "given_names",
            "degree": lambda d: "phd" if "PhD" in d["role_title"] else None,
        },
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
    assert prefill_form(
        form, {"given_names": "X", "address": "Y", "email": "e@x.org", "zzz": 1}
    ) == ["email"]
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


# --- reading, against the emulator ----------------------------------------------------------------

CARBERRY = "0000-0002-1825-0097"
GARCIA = "maria@example.edu"
MENSAH = "kwame@example.org"
READ_PATHS = {
    "GET /v3.0/<orcid>/person",
    "GET /v3.0/<orcid>/educations",
    "GET /v3.0/<orcid>/employments",
}
TOKEN_PATH = "POST /oauth/token"


@pytest.fixture
def connected(make_app, make_user, login, connect):
    """``connected(researcher, **config) -> (app, user_key)``: a host user who went through the
    real connect flow with the emulator."""

    def do(researcher: str, setup=None, **config: object) -> tuple[Flask, str]:
        app = make_app(**config)
        if setup is not None:
            setup(app)  # the host's own routes, added before the first request
        client = app.test_client()
        user = make_user(app, email="student@example.edu")
        login(client, user)
        response = connect(client, researcher)
        assert response.status_code == 302, response.get_data(as_text=True)
        return app, str(user.id)

    return do


def prefill_record(app: Flask, user_key: str) -> Record | None:
    with app.app_context():
        return ext.read_record_for_prefill(user_key)


def test_prefill_reads_person_and_affiliations_never_the_record(connected, emulator) -> None:
    app, key = connected(CARBERRY)
    emulator.reset_requests()
    record = prefill_record(app, key)
    calls = emulator.requests()
    # three GETs with the stored /read-limited token: no token call, no /record, no /works
    assert calls["count"] == 3
    assert set(calls["by_endpoint"]) == READ_PATHS
    assert not any("/record" in c["path"] or "/works" in c["path"] for c in calls["log"])
    assert record.works == []
    assert prefill_data(record) == {
        "given_names": "Josiah",
        "family_name": "Carberry",
        "credit_name": "Josiah S. Carberry",
        "email": "josiah@example.edu",
        "orcid": CARBERRY,
        # the education wins over the current employment (thesis forms ask for the school)
        "institution": "Brown University",
        "department": "Psychoceramics",
        "institution_ror": "https://ror.org/05gq02987",
        "role_title": "PhD",
    }


def test_without_read_limited_one_public_token_is_obtained_and_reused(connected, emulator) -> None:
    app, key = connected(CARBERRY, ORCID_SCOPES="/authenticate")
    emulator.reset_requests()
    first = prefill_record(app, key)
    assert emulator.requests()["by_endpoint"] == {TOKEN_PATH: 1, **dict.fromkeys(READ_PATHS, 1)}
    emulator.reset_requests()
    second = prefill_record(app, key)
    assert emulator.requests()["count"] == 3  # the token was cached
    assert first == second and first.given_names == "Josiah"
    public = emulator.tokens(client_id=emulator.client_id, grant_type="client_credentials")
    assert len(public) == 1 and public[0]["scopes"] == ["/read-public"]


def test_limited_data_is_read_only_with_read_limited(connected, emulator) -> None:
    """Kwame Mensah keeps his name and employment 'trusted parties only' and his email is
    unverified: the connection's token sees them, a /read-public token does not."""
    app, key = connected(MENSAH)
    data = prefill_data(prefill_record(app, key))
    orcid = emulator.researcher(MENSAH)["orcid"]
    assert data["given_names"] == "Kwame" and data["family_name"] == "Mensah"
    assert data["institution_ror"] == "https://ror.org/01r22mr83"  # employment: no education
    assert data["role_title"] == "Lecturer"
    assert "email" not in data  # unverified: never prefilled
    app, key = connected(MENSAH, ORCID_SCOPES="/authenticate")
    assert prefill_data(prefill_record(app, key)) == {"orcid": orcid}


def test_accented_names_reach_the_form_intact(connected) -> None:
    app, key = connected(GARCIA)
    form = ThesisForm()
    prefill_form(form, prefill_record(app, key))
    assert form.given_names.data == "María José"
    assert form.family_name.data == "García Núñez"
    assert form.department.data == "Facultad de Geografía e Historia"
    assert 'value="García Núñez"' in form.family_name()


def test_a_token_the_researcher_revoked_marks_the_connection_and_public_data_still_fills(
    connected, emulator
) -> None:
    app, key = connected(CARBERRY)
    emulator.user_revoke(CARBERRY)
    emulator.reset_requests()
    record = prefill_record(app, key)
    assert record is not None and record.given_names == "Josiah"
    # one refused GET, then a /read-public token and the three reads
    assert emulator.requests()["count"] == 5
    with app.app_context():
        assert ext.get_account(key).status == "invalid"  # committed: the site can ask again


def test_orcid_failing_leaves_the_form_empty_but_working(connected, emulator) -> None:
    app, key = connected(CARBERRY, ORCID_MAX_RETRIES=0)
    emulator.fault(method="GET", path="/person$", count=5, action="status", status=500)
    assert prefill_record(app, key) is None
    form = ThesisForm()
    assert prefill_form(form, {}) == []


def test_no_connection_means_no_prefill_and_no_call(make_app, make_user, emulator) -> None:
    app = make_app()
    user = make_user(app, email="nobody@example.edu")
    emulator.reset_requests()
    assert prefill_record(app, str(user.id)) is None
    assert emulator.requests()["count"] == 0


def test_concurrent_first_prefills_share_one_public_token(emulator) -> None:
    """Eight requests arriving at once on a fresh process: one client-credentials token."""
    client = ORCIDClient(
        emulator.client_id,
        emulator.client_secret,
        environment="emulator",
        emulator_url=emulator.url,
    )
    cache = PublicTokenCache()
    # a connection without /read-limited (what read_for_prefill reads of an account)
    account = SimpleNamespace(
        orcid=CARBERRY, status="active", access_token="unused", has_scopes=lambda *s: False
    )
    try:
        with ThreadPoolExecutor(8) as pool:
            records = list(
                pool.map(lambda _: read_for_prefill(client, account, token_cache=cache), range(8))
            )
    finally:
        client.close()
    assert {r.given_names for r in records} == {"Josiah"}
    assert len(emulator.tokens(client_id=emulator.client_id, grant_type="client_credentials")) == 1


def _thesis_route(app: Flask) -> None:
    @app.route("/thesis", methods=["GET", "POST"])
    def thesis() -> str:
        form = ThesisForm(request.form if request.method == "POST" else None)
        user_key = str(session["user_id"])
        # the host's whole integration: one call to read, one to fill
        prefill_form(form, ext.read_record_for_prefill(user_key) or {})
        return render_template_string(
            "{{ form.given_names() }}{{ form.email() }}{{ form.institution() }}", form=form
        )


def test_host_form_is_prefilled_on_get_and_keeps_what_was_submitted(connected) -> None:
    app, key = connected(CARBERRY, setup=_thesis_route)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = int(key)
    page = client.get("/thesis").get_data(as_text=True)
    assert 'value="Josiah"' in page and 'value="josiah@example.edu"' in page
    assert 'value="Brown University"' in page
    # the student changed their name and cleared the email on purpose
    page = client.post(
        "/thesis", data={"given_names": "Jo", "email": "", "institution": "Brown University"}
    ).get_data(as_text=True)
    assert 'value="Jo"' in page and 'value="josiah@example.edu"' not in page


def test_a_revoked_public_token_is_replaced_once(emulator) -> None:
    client = ORCIDClient(
        emulator.client_id,
        emulator.client_secret,
        environment="emulator",
        emulator_url=emulator.url,
    )
    cache = PublicTokenCache()
    account = SimpleNamespace(
        orcid=CARBERRY, status="active", access_token=None, has_scopes=lambda *s: False
    )
    try:
        assert read_for_prefill(client, account, token_cache=cache).given_names == "Josiah"
        client.revoke(cache.get(client))  # ORCID withdrew our two-legged token
        emulator.reset_requests()
        assert read_for_prefill(client, account, token_cache=cache).given_names == "Josiah"
    finally:
        client.close()
    # the refused GET, one new token, the three reads
    assert emulator.requests()["count"] == 5
    public = emulator.tokens(client_id=emulator.client_id, grant_type="client_credentials")
    assert [t["status"] for t in public] == ["revoked", "active"]


# --- the host's own institution (issue 14, item 1) -------------------------------------------------

BROWN = HostInstitution(name="Brown University", country="US", ror="https://ror.org/05gq02987")


def elsewhere() -> Record:
    """The student of the issue: a finished degree elsewhere and a job at a third university."""
    return carberry(
        educations=[aff("education", "Universidad de Salamanca", "2010-09", "2014-06",
                        department="Facultad de Geografía", role="Licenciatura",
                        organization=org("Universidad de Salamanca", ror="https://ror.org/02f40zc51"))],
        employments=[aff("employment", "Universidad Complutense", "2020", None,
                         department="Historia", role="Investigadora",
                         organization=org("Universidad Complutense", ror="https://ror.org/02p0gd045"))],
    )


def test_affiliations_at_other_institutions_never_fill_the_institution_fields() -> None:
    data = prefill_data(elsewhere(), institution=BROWN)
    assert data["given_names"] == "Josiah" and data["email"] == "josiah@example.edu"
    for key in AFFILIATION_KEYS:
        assert key not in data
    assert host_affiliation(elsewhere(), BROWN) is None


def test_the_education_at_the_host_wins_over_a_later_one_elsewhere() -> None:
    record = carberry(educations=[
        aff("education", "Brown University", "2019-09", None, department="Psychoceramics",
            role="PhD candidate"),
        aff("education", "Somewhere Else", "2023-01", None, department="Pottery",
            organization=org("Somewhere Else", ror="https://ror.org/00jmfr291")),
    ])
    data = prefill_data(record, institution=BROWN)
    assert data["department"] == "Psychoceramics" and data["institution"] == "Brown University"
    assert data["institution_ror"] == ROR
    sources = prefill_sources(record, institution=BROWN)
    assert sources["department"].kind == "education"
    assert sources["department"].affiliation.start_date.year == 2019
    assert sources["given_names"].kind == "person" and sources["email"].kind == "email"


@pytest.mark.parametrize("ror", ["05gq02987", "https://ror.org/05GQ02987/", "http://ror.org/05gq02987"])
def test_ror_ids_match_in_any_usual_spelling(ror: str) -> None:
    host = HostInstitution(name="Brown", country="US", ror=ror)
    assert prefill_data(carberry(), institution=host)["department"] == "Psychoceramics"


def test_a_different_ror_never_matches_even_with_the_same_name() -> None:
    other = org("Brown University", ror="https://ror.org/00jmfr291")
    record = carberry(educations=[aff("education", "Brown University", "2020", None,
                                      department="X", organization=other)], employments=[])
    assert "department" not in prefill_data(record, institution=BROWN)


def test_without_a_ror_the_normalized_name_and_the_country_must_match() -> None:
    def org_named(name: str, country: str | None) -> Organization:
        return Organization(name=name, city="Providence", country=country,
                            disambiguated_id=None, disambiguation_source=None)

    def record_at(organization: Organization) -> Record:
        return carberry(educations=[aff("education", "x", "2020", None, department="Dept",
                                        organization=organization)], employments=[])

    assert prefill_data(record_at(org_named("The  BROWN University.", "US")),
                        institution=BROWN)["department"] == "Dept"
    assert "department" not in prefill_data(record_at(org_named("Brown University", "GB")),
                                            institution=BROWN)
    assert "department" not in prefill_data(record_at(org_named("Brown College", "US")),
                                            institution=BROWN)
    assert normalize_org_name("Universitat de València") == normalize_org_name(
        "UNIVERSITAT DE VALENCIA")


def test_employment_at_the_host_is_used_when_there_is_no_education_there() -> None:
    record = carberry(educations=[], employments=[
        aff("employment", "Brown University", "2015", None, department="Library", role="Staff")])
    data = prefill_data(record, institution=BROWN)
    assert data["department"] == "Library"
    assert prefill_sources(record, institution=BROWN)["department"].kind == "employment"

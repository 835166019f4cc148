"""The sample repository without ORCID: accounts, drafts, the deposit form's checks, review,
publication with handle and DOI, embargo, withdrawal, search (issue 6)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.plugins.example import csrf_token, make_pdf


def thesis_fields(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "given_names": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.edu",
        "department": "Department of Mathematics",
        "title": "Notes on the Analytical Engine",
        "subtitle": "Programs before computers",
        "abstract": "We study the first published algorithm intended for a machine.",
        "keywords": "computing, history, algorithms",
        "language": "en",
        "degree": "phd",
        "program_start": "2019-09",
        "degree_date": "2024-05-20",
        "license": "cc-by-4.0",
        "agreement": "y",
        "advisors-0-name": "Charles Babbage",
        "advisors-0-orcid": "",
        "advisors-1-name": "",
        "advisors-1-orcid": "",
        "advisors-2-name": "",
        "advisors-2-orcid": "",
        "embargo_until": "",
    }
    fields.update(overrides)
    return fields


def upload(data: bytes = b"", name: str = "thesis.pdf") -> tuple[io.BytesIO, str]:
    return io.BytesIO(data or make_pdf("Notes on the Analytical Engine")), name


def submit_thesis(student, **overrides: object):
    data = thesis_fields(**overrides)
    data.setdefault("pdf", upload())
    data["submit"] = "Submit for review"
    return student.post_form("/submit/form", data, content_type="multipart/form-data")


def theses(app):
    from example_repository.db import db
    from example_repository.models import Thesis

    with app.app_context():
        rows = db.session.scalars(db.select(Thesis).order_by(Thesis.id)).all()
        for row in rows:
            _ = row.advisors
        db.session.expunge_all()
        return rows


@pytest.fixture
def repo(make_repo):
    return make_repo()


def test_register_login_logout(repo):
    client = repo.test_client()
    page = client.get("/account/register").get_data(as_text=True)
    response = client.post("/account/register", data={
        "csrf_token": csrf_token(page), "given_names": "Ada", "family_name": "Lovelace",
        "email": "Ada@Example.edu", "password": "analytical", "confirm": "analytical",
    })
    assert response.status_code == 302 and response.headers["Location"] == "/account/login"
    # then log in (registration never says whether the address already had an account)
    page = client.get("/account/login").get_data(as_text=True)
    client.post("/account/login", data={"csrf_token": csrf_token(page),
                                        "email": "ada@example.edu", "password": "analytical"})
    assert client.get("/my").status_code == 200  # logged in

    # the same email again creates nothing (and answers exactly as for a new address)
    other = repo.test_client()
    page = other.get("/account/register").get_data(as_text=True)
    response = other.post("/account/register", data={
        "csrf_token": csrf_token(page), "given_names": "X", "family_name": "Y",
        "email": "ada@example.edu", "password": "something", "confirm": "something",
    })
    assert response.status_code == 302 and response.headers["Location"] == "/account/login"
    with repo.app_context():
        from example_repository.db import db
        from example_repository.models import User

        assert db.session.scalar(db.select(db.func.count(User.id))) == 1

    # logging out needs the CSRF token: a bare POST changes nothing
    client.post("/account/logout")
    assert client.get("/my").status_code == 200
    page = client.get("/my").get_data(as_text=True)
    client.post("/account/logout", data={"csrf_token": csrf_token(page)})
    assert client.get("/my").status_code == 302

    bad = repo.test_client()
    page = bad.get("/account/login").get_data(as_text=True)
    response = bad.post("/account/login", data={"csrf_token": csrf_token(page),
                                                "email": "ada@example.edu", "password": "wrong"})
    assert "Email or password is not right" in response.get_data(as_text=True)


def test_submit_starts_with_the_explained_orcid_step(repo, make_person):
    student = make_person(repo)
    html = student.client.get("/submit").get_data(as_text=True)
    assert "Why the graduate school asks" in html
    assert "/orcid/connect?next=/submit/form" in html
    assert "Continue without ORCID" in html
    assert 'href="/submit/form"' in html
    # not logged in: sent to the login page first
    assert repo.test_client().get("/submit").status_code == 302


def test_draft_then_complete_submission(repo, make_person):
    student = make_person(repo)
    response = student.post_form("/submit/form", {"title": "Half-finished", "save_draft": "1"})
    assert response.status_code == 302
    [draft] = theses(repo)
    assert draft.status == "draft" and draft.title == "Half-finished"

    # submitting the incomplete draft names what is missing and keeps it a draft
    url = f"/my/theses/{draft.id}/edit"
    response = student.post_form(url, {"title": "Half-finished", "submit": "1"},
                                 content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert 'id="form-problems"' in html
    assert "Add the abstract." in html and "Upload the PDF of your thesis." in html
    assert "Name at least one advisor." in html
    assert theses(repo)[0].status == "draft"

    data = thesis_fields(pdf=upload(), submit="1")
    response = student.post_form(url, data, content_type="multipart/form-data")
    assert response.status_code == 302
    [thesis] = theses(repo)
    assert thesis.status == "submitted"
    assert thesis.pdf_size > 0 and thesis.pdf_name == "thesis.pdf"
    assert [a.name for a in thesis.advisors] == ["Charles Babbage"]
    dashboard = student.client.get("/my").get_data(as_text=True)
    assert "Notes on the Analytical Engine" in dashboard and "Submitted" in dashboard
    # a submitted thesis is the graduate school's now
    assert student.client.get(url).status_code == 302


def test_every_missing_field_is_reported_in_one_round_with_links(repo, make_person):
    """Nothing typed, submit: the title (a validator) and everything submission needs are
    listed together at the top, each linking to its field; nothing is saved."""
    student = make_person(repo)
    response = student.post_form("/submit/form", {"submit": "1", "given_names": "",
                                                  "family_name": "", "email": ""},
                                 content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    summary = html[html.index('id="form-problems"'):]
    summary = summary[:summary.index("</div>")]
    for field_id in ("given_names", "family_name", "email", "department", "title", "abstract",
                     "degree", "program_start", "degree_date", "advisors-0-name", "pdf",
                     "license", "agreement"):
        assert f'href="#{field_id}"' in summary, field_id
    assert "(13)" in summary
    assert theses(repo) == []


def test_a_refused_upload_names_the_refused_file_and_the_kept_one(repo, make_person):
    student = make_person(repo)
    # a good PDF kept while another field is wrong, then a bad file: both are named
    submit_thesis(student, pdf=upload(name="good-thesis.pdf"), **{"advisors-0-orcid": "0000-0002-1825-0098"})
    html = submit_thesis(student, pdf=upload(b"\x89PNG\r\n\x1a\nnope", "scan.png.pdf"),
                         **{"advisors-0-orcid": "0000-0002-1825-0098"}).get_data(as_text=True)
    refused = html[html.index('id="pdf-refused"'):]
    refused = refused[:refused.index("</p>")]
    assert "scan.png.pdf" in refused and "good-thesis.pdf" in refused


def test_the_rights_step_reaches_the_landing_page_and_its_metadata(make_repo, make_person):
    """Issue 14, item 10: the licences offered are configurable; the chosen one is on the
    landing page, in the JSON-LD, a DC.rights meta tag and a signposting rel="license" link."""
    repo = make_repo(REPOSITORY_LICENSES="cc-by-nc-nd-4.0,all-rights-reserved")
    student = make_person(repo)
    form = student.client.get("/submit/form").get_data(as_text=True)
    assert 'value="cc-by-nc-nd-4.0"' in form and 'value="all-rights-reserved"' in form
    assert 'value="cc-by-4.0"' not in form  # not offered by this school
    # a licence the school does not offer is refused
    html = submit_thesis(student, license="cc-by-4.0").get_data(as_text=True)
    assert "Choose one of the licences offered." in html and theses(repo) == []
    assert submit_thesis(student, license="cc-by-nc-nd-4.0").status_code == 302
    [thesis] = theses(repo)
    assert thesis.license == "cc-by-nc-nd-4.0" and thesis.agreement_accepted_at is not None
    admin = make_person(repo, email="admin@example.edu", admin=True)
    accept(admin, thesis.id)
    visitor = repo.test_client()
    response = visitor.get(f"/theses/{thesis.id}")
    page = response.get_data(as_text=True)
    url = "https://creativecommons.org/licenses/by-nc-nd/4.0/"
    assert f'id="license" rel="license" href="{url}"' in page
    assert f'<meta name="DC.rights" content="{url}">' in page
    assert f'<{url}>; rel="license"' in response.headers["Link"]
    doc = visitor.get(f"/theses/{thesis.id}/metadata.jsonld").get_json(force=True)
    assert doc["license"] == url


def test_pdf_is_checked_by_content_and_size(make_repo, make_person):
    repo = make_repo(REPOSITORY_MAX_PDF_MB=0.1)
    student = make_person(repo)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    html = submit_thesis(student, pdf=upload(png, "thesis.pdf")).get_data(as_text=True)
    assert "This file is not a PDF" in html
    html = submit_thesis(student, pdf=upload(b"<html>" + make_pdf(), "t.pdf")).get_data(
        as_text=True)
    assert "This file is not a PDF" in html  # the header must come first
    big = make_pdf() + b"%" * (110 * 1024)
    html = submit_thesis(student, pdf=upload(big)).get_data(as_text=True)
    assert "larger than 0.1 MB" in html
    assert theses(repo) == []


def test_a_good_pdf_is_kept_when_another_field_is_wrong(repo, make_person):
    student = make_person(repo)
    html = submit_thesis(student, **{"advisors-0-orcid": "0000-0002-1825-0098"}).get_data(
        as_text=True)
    assert "check digit" in html.lower() or "not a valid" in html.lower()
    assert "you don&#39;t need to upload it again" in html or "need to upload it again" in html
    response = submit_thesis(student, pdf=(io.BytesIO(b""), ""),
                             **{"advisors-0-orcid": "https://orcid.org/0000-0002-1825-0097"})
    assert response.status_code == 302
    [thesis] = theses(repo)
    assert thesis.status == "submitted" and thesis.pdf_file
    # a typed-in iD is stored canonically, and shown as not authenticated
    assert thesis.advisors[0].orcid == "0000-0002-1825-0097"


def test_post_without_csrf_token_saves_nothing(repo, make_person):
    student = make_person(repo)
    data = thesis_fields(pdf=upload(), submit="1")
    response = student.client.post("/submit/form", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "CSRF" in response.get_data(as_text=True)
    assert theses(repo) == []


def test_admin_pages_are_for_admins(repo, make_person):
    student = make_person(repo)
    assert student.client.get("/admin/").status_code == 403
    admin = make_person(repo, email="admin@example.edu", admin=True)
    assert admin.client.get("/admin/").status_code == 200


def accept(admin, thesis_id: int):
    return admin.post_form(f"/admin/theses/{thesis_id}",
                           {"review-note": "", "review-accept": "Accept"},
                           page=f"/admin/theses/{thesis_id}")


def test_accept_mints_identifiers_and_publishes_the_landing_page(make_repo, make_person):
    repo = make_repo(REPOSITORY_HANDLE_PREFIX="20.500.11111", REPOSITORY_DOI_PREFIX="10.99999")
    student = make_person(repo)
    submit_thesis(student)
    [thesis] = theses(repo)
    assert repo.test_client().get(f"/theses/{thesis.id}").status_code == 404  # not yet public

    admin = make_person(repo, email="admin@example.edu", admin=True)
    assert "Notes on the Analytical Engine" in admin.client.get("/admin/").get_data(as_text=True)
    response = accept(admin, thesis.id)
    assert response.status_code == 302
    [thesis] = theses(repo)
    assert thesis.status == "published"
    assert thesis.handle == f"20.500.11111/etd.{thesis.id}"
    assert thesis.doi == f"10.99999/etd.2024.{thesis.id}"

    public = repo.test_client()
    response = public.get(f"/theses/{thesis.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "https://doi.org/10.99999/etd.2024." in html
    assert "Lovelace, A. (2024). Notes on the Analytical Engine: Programs before computers " \
           "[Doctoral dissertation, Brown University]" in html
    with public.get(f"/theses/{thesis.id}/thesis.pdf") as pdf:
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    # no ORCID connection: no iD anywhere, and nothing queued for ORCID
    assert "citation_author_orcid" not in html
    assert 'rel="author"' not in response.headers["Link"]
    assert thesis.sent_to_orcid is False

    # browse and search
    assert "Notes on the Analytical Engine" in public.get("/theses?q=analytical").get_data(
        as_text=True)
    assert "No thesis matches" in public.get("/theses?q=zebra").get_data(as_text=True)
    assert "Notes on the Analytical Engine" in public.get("/").get_data(as_text=True)


def test_embargo_hides_the_pdf_until_it_lifts(repo, make_person):
    student = make_person(repo)
    until = dt.date.today() + dt.timedelta(days=90)
    submit_thesis(student, embargo_until=until.isoformat())
    [thesis] = theses(repo)
    admin = make_person(repo, email="admin@example.edu", admin=True)
    accept(admin, thesis.id)
    public = repo.test_client()
    html = public.get(f"/theses/{thesis.id}").get_data(as_text=True)
    assert f"under embargo until {until.isoformat()}" in html
    assert "citation_pdf_url" not in html
    assert public.get(f"/theses/{thesis.id}/thesis.pdf").status_code == 404
    # a past embargo date is refused on the form
    html = submit_thesis(student, embargo_until="2001-01-01").get_data(as_text=True)
    assert "An embargo must end in the future." in html


def test_withdrawal_leaves_a_tombstone(repo, make_person):
    student = make_person(repo)
    submit_thesis(student)
    [thesis] = theses(repo)
    admin = make_person(repo, email="admin@example.edu", admin=True)
    accept(admin, thesis.id)
    response = admin.post_form(f"/admin/theses/{thesis.id}/withdraw",
                               {"withdraw-reason": "Duplicate deposit", "withdraw-withdraw": "1"},
                               page=f"/admin/theses/{thesis.id}")
    assert response.status_code == 302
    public = repo.test_client().get(f"/theses/{thesis.id}")
    assert public.status_code == 410
    assert "has been withdrawn" in public.get_data(as_text=True)
    assert repo.test_client().get(f"/theses/{thesis.id}/thesis.pdf").status_code == 404
    assert "Notes on" not in repo.test_client().get("/theses").get_data(as_text=True)


def test_spanish_pages(repo, make_person):
    client = repo.test_client()
    response = client.get("/lang/es?next=/theses")
    assert response.headers["Location"].endswith("/theses")
    html = client.get("/theses").get_data(as_text=True)
    assert '<html lang="es">' in html
    assert "Tesis" in html and "Buscar" in html
    student = make_person(repo)
    student.client.get("/lang/es")
    html = student.client.get("/submit").get_data(as_text=True)
    assert "Continuar sin ORCID" in html
    # the switcher never redirects off-site
    assert client.get("/lang/en?next=//evil.example").headers["Location"] == "/"


def test_returned_for_changes_then_resubmitted(repo, make_person):
    student = make_person(repo)
    submit_thesis(student)
    [thesis] = theses(repo)
    admin = make_person(repo, email="admin@example.edu", admin=True)
    admin.post_form(f"/admin/theses/{thesis.id}",
                    {"review-note": "Please add the signed approval page.",
                     "review-request_changes": "1"})
    dashboard = student.client.get("/my").get_data(as_text=True)
    assert "Changes requested" in dashboard and "signed approval page" in dashboard
    url = f"/my/theses/{thesis.id}/edit"
    assert "signed approval page" in student.client.get(url).get_data(as_text=True)
    data = thesis_fields(pdf=upload(), submit="1")
    assert student.post_form(url, data, content_type="multipart/form-data").status_code == 302
    assert theses(repo)[0].status == "submitted"
    # an admin cannot publish what is not submitted (a second accept is refused quietly)
    accept(admin, thesis.id)
    accept(admin, thesis.id)
    assert theses(repo)[0].status == "published"


def test_lift_embargoes_command_reports_nothing_to_do(repo):
    result = repo.test_cli_runner().invoke(args=["lift-embargoes"])
    assert result.exit_code == 0 and "0 embargo(es) lifted." in result.output


def test_create_user_command(repo):
    result = repo.test_cli_runner().invoke(
        args=["create-user", "dean@example.edu", "--admin", "--password", "dean-pass-1",
              "--given-names", "Dana", "--family-name", "Dean"])
    assert result.exit_code == 0, result.output
    client = repo.test_client()
    page = client.get("/account/login").get_data(as_text=True)
    response = client.post("/account/login", data={"csrf_token": csrf_token(page),
                                                   "email": "dean@example.edu",
                                                   "password": "dean-pass-1"})
    assert response.headers["Location"] == "/admin/"


def test_an_oversized_upload_gets_a_clear_page(make_repo, make_person):
    repo = make_repo(REPOSITORY_MAX_PDF_MB=0.05, MAX_CONTENT_LENGTH=80 * 1024)
    student = make_person(repo)
    response = submit_thesis(student, pdf=upload(make_pdf() + b"%" * (100 * 1024)))
    assert response.status_code == 413
    assert "larger than 0.05 MB" in response.get_data(as_text=True)
    assert repo.test_client().get("/theses/999").status_code == 404


def test_students_only_see_their_own_drafts_and_files(repo, make_person):
    ada = make_person(repo)
    ada.post_form("/submit/form", thesis_fields(pdf=upload(), save_draft="1"),
                  content_type="multipart/form-data")
    [thesis] = theses(repo)
    assert thesis.status == "draft" and thesis.pdf_file
    with ada.client.get(f"/my/theses/{thesis.id}/file.pdf") as own:
        assert own.status_code == 200 and own.headers["X-Content-Type-Options"] == "nosniff"
    other = make_person(repo, email="other@example.edu")
    for url in (f"/my/theses/{thesis.id}", f"/my/theses/{thesis.id}/edit",
                f"/my/theses/{thesis.id}/file.pdf"):
        assert other.client.get(url).status_code == 404
    # nor is an unpublished thesis or its file public
    assert repo.test_client().get(f"/theses/{thesis.id}/thesis.pdf").status_code == 404

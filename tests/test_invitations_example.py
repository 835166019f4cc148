"""Invitations in the sample repository (issue 15): a student invites from the deposit form,
an admin from the review page; the advisor's confirmed iD survives later saves of the form and
cannot be overwritten by typing; the landing page shows it with the iD icon; opted in, the
thesis reaches the advisor's own record with the supervision role; the demo mailbox."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.invitation_support import SUPERVISION, authorize_params, link_of, path_of, start
from tests.plugins.example import csrf_token
from tests.test_example_orcid import deliver, ours
from tests.test_example_workflow import submit_thesis, theses, thesis_fields, upload

MARIA = "maria@example.edu"
MARIA_ID = "0000-0003-4567-890X"
JOSIAH = "josiah@example.edu"
JOSIAH_ID = "0000-0002-1825-0097"
TYPED = "0000-0001-5109-3700"


@pytest.fixture
def repo(make_repo, smtp_server):
    return make_repo(with_emulator=True, **smtp_server.config())


@pytest.fixture
def student(repo, make_person):
    return make_person(repo, email="ada@example.edu", given_names="Ada", family_name="Lovelace")


@pytest.fixture
def admin(repo, make_person):
    return make_person(repo, email="admin@example.edu", admin=True)


def people(**extra):
    """The form's people: an advisor with an email (invited in Spanish) and a typed iD."""
    fields = {"advisors-0-name": "María José García", "advisors-0-role": "advisor",
              "advisors-0-email": MARIA, "advisors-0-orcid": TYPED,
              "advisors-0-invite": "y", "advisors-0-invite_lang": "es",
              "advisors-1-name": "Charles Babbage", "advisors-1-role": "committee_member",
              "advisors-1-email": "", "advisors-1-orcid": "0000-0002-1694-233X"}
    fields.update(extra)
    return fields


def save_draft(student, url="/submit/form", page=None, **fields):
    data = thesis_fields(**fields)
    data["save_draft"] = "Save draft"
    return student.post_form(url, data, page=page, content_type="multipart/form-data")


def accept_invitation(repo, emulator, link, who=MARIA, add_work=False):
    """The invitee, in their own browser: the page, ORCID's screens, the thank-you page."""
    browser = repo.test_client()
    response = start(browser, link, add_work=add_work)
    assert response.status_code == 302, response.get_data(as_text=True)
    params = authorize_params(response.headers["Location"])
    callback = emulator.authorize(response.headers["Location"], who)
    done = browser.get(path_of(callback))
    if done.status_code == 302:
        done = browser.get(done.headers["Location"])
    assert done.status_code == 200, done.get_data(as_text=True)
    return params, done.get_data(as_text=True)


def advisor_rows(repo):
    [thesis] = theses(repo)
    return {a.name: a for a in thesis.advisors}


def test_a_student_invites_an_advisor_who_confirms_their_id(repo, student, smtp_server,
                                                             emulator):
    response = save_draft(student, **people())
    assert response.status_code == 302
    [message] = smtp_server.wait(1)
    assert message["To"] == MARIA and message["Content-Language"] == "es"
    assert "Ada Lovelace le pide que confirme su iD de ORCID" == message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "como director/a de «Notes on the Analytical Engine»" in text
    # the status shows on the form, with resend and cancel
    [thesis] = theses(repo)
    html = student.client.get(f"/my/theses/{thesis.id}/edit").get_data(as_text=True)
    assert 'id="invitations"' in html and 'data-status="sent"' in html and ">Resend<" in html

    params, done = accept_invitation(repo, emulator, link_of(smtp_server))
    assert params["given_names"] == "María José" and params["family_names"] == "García"
    assert params["email"] == MARIA and params["scope"] == "/authenticate"
    assert "Gracias: su iD de ORCID está confirmado" in done
    assert f"Este no es el iD que teníamos para usted ({TYPED})" in done

    maria = advisor_rows(repo)["María José García"]
    assert maria.orcid == MARIA_ID and maria.orcid_authenticated is True
    html = student.client.get(f"/my/theses/{thesis.id}/edit").get_data(as_text=True)
    assert 'data-status="authenticated"' in html and 'id="person-orcid-0"' in html

    # a later save keeps the confirmed iD; typing another one does not replace it
    response = save_draft(student, url=f"/my/theses/{thesis.id}/edit",
                          **people(**{"advisors-0-orcid": TYPED, "advisors-0-invite": ""}))
    assert response.status_code == 302
    rows = advisor_rows(repo)
    assert rows["María José García"].orcid == MARIA_ID
    assert rows["María José García"].orcid_authenticated is True
    assert rows["María José García"].id == maria.id  # the same row: the invitation still links
    assert rows["Charles Babbage"].orcid_authenticated is False
    assert len(smtp_server.messages) == 1  # no second invitation for a confirmed person


def test_the_landing_page_shows_a_confirmed_id_with_the_icon(repo, student, admin, smtp_server,
                                                             emulator):
    save_draft(student, **people())
    accept_invitation(repo, emulator, link_of(smtp_server))
    [thesis] = theses(repo)
    student.post_form(f"/my/theses/{thesis.id}/edit",
                      {**thesis_fields(**people(**{"advisors-0-invite": ""})),
                       "pdf": upload(), "submit": "Submit for review"},
                      content_type="multipart/form-data")
    admin.post_form(f"/admin/theses/{thesis.id}", {"review-accept": "Accept and publish"})
    html = repo.test_client().get(f"/theses/{thesis.id}").get_data(as_text=True)
    confirmed = re.search(r'<span class="person person-confirmed"[^>]*>.*?</span></span>', html,
                          re.S).group(0)
    assert "María José García" in confirmed and 'class="orcid-id-icon"' in confirmed
    assert f"{emulator.url}/{MARIA_ID}" in confirmed
    section = html[html.index('id="advisors"'):]
    typed = section[section.index("Charles Babbage"):]
    typed = typed[:typed.index("</span></span>")]
    assert "(ORCID iD not authenticated)" in typed and "orcid-id-icon" not in typed


def test_an_admin_invites_and_the_opted_in_advisor_gets_the_thesis(
        repo, student, admin, smtp_server, emulator, make_person):
    submit_thesis(student, **{"advisors-0-name": "Josiah Carberry",
                              "advisors-0-role": "advisor"})
    [thesis] = theses(repo)
    [person] = thesis.advisors
    review = f"/admin/theses/{thesis.id}"
    html = admin.client.get(review).get_data(as_text=True)
    assert f'id="invite-form-{person.id}"' in html
    response = admin.post_form(
        f"/admin/theses/{thesis.id}/people/{person.id}/invite",
        {f"invite{person.id}-email": JOSIAH, f"invite{person.id}-lang": "en",
         f"invite{person.id}-csrf_token": csrf_token(html)}, page=review)
    assert response.status_code == 302
    [message] = smtp_server.wait(1)
    assert message["To"] == JOSIAH and "Grace" not in message["Subject"]

    params, done = accept_invitation(repo, emulator, link_of(smtp_server), JOSIAH,
                                     add_work=True)
    assert params["scope"] == "/read-limited /activities/update"
    assert "We will add this work to your ORCID record" in done
    # nothing goes out before publication; on acceptance the thesis reaches his record
    deliver(repo)
    assert ours(emulator.record(JOSIAH_ID)["works"], emulator.client_id) == []
    admin.post_form(review, {"review-accept": "Accept and publish"})
    deliver(repo)
    [work] = ours(emulator.record(JOSIAH_ID)["works"], emulator.client_id)
    assert work["title"] == "Notes on the Analytical Engine"
    [author, supervisor] = work["contributors"]
    assert supervisor["orcid"] == JOSIAH_ID and supervisor["role"] == SUPERVISION
    assert author["credit_name"] == "Ada Lovelace"

    # withdrawal takes it off his record too
    page = admin.client.get(review).get_data(as_text=True)
    admin.post_form(f"/admin/theses/{thesis.id}/withdraw",
                    {"withdraw-reason": "Plagiarism", "withdraw-csrf_token": csrf_token(page)},
                    page=review)
    deliver(repo)
    assert ours(emulator.record(JOSIAH_ID)["works"], emulator.client_id) == []


def test_the_author_may_not_manage_another_theses_invitations(repo, student, smtp_server,
                                                             make_person):
    save_draft(student, **people())
    other = make_person(repo, email="eve@example.edu")
    [thesis] = theses(repo)
    with repo.app_context():
        from example_repository.orcid_setup import orcid

        [invitation] = orcid.invitations_for(f"thesis:{thesis.id}")
    with other.client.session_transaction() as sess:
        sess["_orcid_csrf"] = "t"
    response = other.client.post(f"/orcid/invitations/manage/{invitation.id}/cancel",
                                 data={"csrf_token": "t"})
    assert response.status_code == 403


def test_removing_a_person_cancels_their_invitation(repo, student, smtp_server):
    save_draft(student, **people())
    [thesis] = theses(repo)
    save_draft(student, url=f"/my/theses/{thesis.id}/edit",
               **people(**{"advisors-0-name": "", "advisors-0-email": "",
                           "advisors-0-orcid": "", "advisors-0-invite": ""}))
    response = repo.test_client().get(path_of(link_of(smtp_server)))
    assert response.status_code == 410


def test_the_demo_mailbox_shows_the_messages(make_repo, make_person, tmp_path):
    repo = make_repo(ORCID_MAIL_BACKEND="folder", ORCID_MAIL_FOLDER=str(tmp_path / "box"))
    student = make_person(repo, email="ada@example.edu", given_names="Ada",
                          family_name="Lovelace")
    client = repo.test_client()
    assert "No messages yet" in client.get("/demo/mailbox/").get_data(as_text=True)
    save_draft(student, **people())
    html = client.get("/demo/mailbox/").get_data(as_text=True)
    href = re.search(r'href="(/demo/mailbox/[^"]+)"', html).group(1)
    message = client.get(href).get_data(as_text=True)
    link = re.search(r'<a href="(http://localhost/orcid/invitations/[^"]+)"', message).group(1)
    assert client.get(urlsplit(link).path).status_code == 200
    # never on a real site
    real = make_repo(ORCID_ENVIRONMENT="sandbox", ORCID_MAIL_BACKEND="folder",
                     ORCID_MAIL_FOLDER=str(tmp_path / "box"))
    assert real.test_client().get("/demo/mailbox/").status_code == 404

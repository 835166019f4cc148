"""Invitations (issue 15): the lifecycle of the sync layer, ``orcid.invite()`` and its emails
over a real SMTP server in the test process, the link's pages (unknown, expired, cancelled,
replaced), the inviter's resend and cancel, and the hooks."""

from __future__ import annotations

import smtplib
import warnings
from datetime import timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import AuthResult

from flask_orcid import ConfigurationError, UserInfo
from flask_orcid.mail import build_message, read_folder, send_mail
from flask_orcid.sync import invitations as inv
from flask_orcid.sync import states as st
from tests.invitation_support import clock_at, csrf, link_of, path_of
from tests.plugins.app import db, orcid

KEYS = [b"first-key", b"older-key"]


def invite(app, **kw):
    fields = {"subject": "thesis:7", "name": "Charles Babbage", "email": "cb@example.edu",
              "role": "advisor", "inviter_name": "Ada Lovelace",
              "subject_title": "Notes on the Analytical Engine"}
    fields.update(kw)
    with app.app_context():
        invitation = orcid.invite(**fields)
        db.session.refresh(invitation)
        db.session.expunge(invitation)
        return invitation


@pytest.fixture
def mail_app(make_app, smtp_server):
    return make_app(ORCID_EXTERNAL_URL="https://theses.example.edu", **smtp_server.config())


# -- the token -----------------------------------------------------------------------------------

def test_a_link_is_tagged_and_only_its_hash_is_kept():
    signed = inv.sign("abc", KEYS)
    assert inv.verify(signed, KEYS) == "abc"
    assert inv.verify(signed, [b"older-key", b"first-key"]) == "abc"  # a rotated key still reads
    assert inv.verify(signed, [b"another"]) is None
    token, tag = signed.split(".")
    assert inv.verify(f"abd.{tag}", KEYS) is None  # the token changed, the tag no longer fits
    for forged in ("", "abc", "abc.", ".x", "a.b.c", "x" * 300):
        assert inv.verify(forged, KEYS) is None
    assert inv.token_hash("abc") != "abc" and len(inv.token_hash("abc")) == 64


def test_split_name_for_orcids_registration_form():
    assert inv.split_name("Charles Babbage") == ("Charles", "Babbage")
    assert inv.split_name("María José García") == ("María José", "García")
    assert inv.split_name("Plato") == ("Plato", None)


# -- invite() and its email ----------------------------------------------------------------------

def test_invite_sends_a_multipart_email_with_a_working_link(mail_app, smtp_server):
    invitation = invite(mail_app, lang="en")
    assert invitation.status == st.INVITATION_SENT and invitation.send_count == 1
    [message] = smtp_server.wait(1)
    sender, recipients = smtp_server.envelopes[0]
    assert recipients == ["cb@example.edu"] and sender == "etd@example.edu"
    assert message["Subject"] == "Ada Lovelace asks you to confirm your ORCID iD"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    link = link_of(smtp_server)
    assert link.startswith("https://theses.example.edu/orcid/invitations/")
    assert "Notes on the Analytical Engine" in text and "as advisor of" in text
    assert f'href="{link}"' in html and "Notes on the Analytical Engine" in html
    # only the hash of the token is stored
    token = path_of(link).rsplit("/", 1)[1].split(".")[0]
    with mail_app.app_context():
        row = orcid.get_invitation(invitation.id)
        assert row.token_hash == inv.token_hash(token) and token not in row.token_hash
    # the link opens the page, which says who asks and why; the first visit marks it opened
    client = mail_app.test_client()
    html = client.get(path_of(link)).get_data(as_text=True)
    assert "Ada Lovelace names you, Charles Babbage, as advisor of" in html
    assert "Continue to ORCID" in html and 'name="add_work"' not in html  # work not offered
    with mail_app.app_context():
        assert orcid.invitation_status(orcid.get_invitation(invitation.id)) == "opened"


def test_the_email_and_the_page_are_in_the_inviters_language(mail_app, smtp_server):
    invite(mail_app, lang="es", offer_work=True)
    [message] = smtp_server.wait(1)
    assert message["Subject"] == "Ada Lovelace le pide que confirme su iD ORCID"
    assert message["Content-Language"] == "es"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Estimado/a Charles Babbage" in text and "como director/a" in text
    # the page too, whatever language the browser asks for
    client = mail_app.test_client()
    html = client.get(path_of(link_of(smtp_server)),
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="es">' in html and "Confirme su iD ORCID" in html
    assert 'name="add_work"' in html and "Continuar a ORCID" in html


def test_invite_works_without_a_request(mail_app, smtp_server):
    """A campaign run from the CLI: no request, links from ORCID_EXTERNAL_URL."""
    with mail_app.app_context():
        invitation = orcid.invite(subject="thesis:9", name="Grace Hopper",
                                  email="gh@example.edu", inviter=UserInfo(
                                      key="1", given_names="Ada", family_names="Lovelace"))
        assert invitation.inviter_key == "1" and invitation.inviter_name == "Ada Lovelace"
    assert link_of(smtp_server).startswith("https://theses.example.edu/orcid/invitations/")


def test_without_a_public_address_invite_says_what_to_set(make_app, smtp_server):
    app = make_app(**smtp_server.config())
    with app.app_context(), pytest.raises(ConfigurationError, match="ORCID_EXTERNAL_URL"):
        orcid.invite(subject="thesis:1", name="A B", email="ab@example.edu")


def test_a_mail_server_down_leaves_the_invitation_unsent_then_resend_sends_it(
        make_app, smtp_server_factory, hooks, login, make_user):
    down = smtp_server_factory()
    port = down.port
    down.stop()
    app = make_app(ORCID_EXTERNAL_URL="https://t.example", ORCID_MAIL_HOST="127.0.0.1",
                   ORCID_MAIL_PORT=port, ORCID_MAIL_SENDER="etd@example.edu")
    invitation = invite(app)
    assert invitation.status == st.INVITATION_UNSENT and invitation.send_count == 0
    assert "could not take the message" in invitation.last_error
    # the inviter sees why, and resends once the server is back
    user = make_user(app)
    login(client := app.test_client(), user)
    up = smtp_server_factory()
    app.config["ORCID_MAIL_PORT"] = up.port
    response = client.post(f"/orcid/invitations/manage/{invitation.id}/resend",
                           data={"csrf_token": session_csrf(client), "next": "/deposit"})
    assert response.status_code == 302 and response.headers["Location"] == "/deposit"
    [message] = up.wait(1)
    with app.app_context():
        row = orcid.get_invitation(invitation.id)
        assert row.status == st.INVITATION_SENT and row.last_error is None and row.send_count == 1


def test_smtp_login_and_refused_credentials(make_app, smtp_server_factory):
    # aiosmtpd itself sets its deprecated Session.login_data on every successful login, in its
    # server thread (pytest restores the filters after the test)
    warnings.filterwarnings("ignore", "Session.login_data is deprecated", DeprecationWarning)
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"etd" and auth_data.password == b"right"
        return AuthResult(success=ok, handled=False,
                          message=None if ok else "535 5.7.8 Authentication credentials invalid")

    # and it warns about a login without TLS: the test server has no certificate
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
    server = smtp_server_factory(authenticator=authenticator, auth_require_tls=False,
                                 auth_required=True)
    app = make_app(ORCID_EXTERNAL_URL="https://t.example",
                   **server.config(ORCID_MAIL_USERNAME="etd", ORCID_MAIL_PASSWORD="right"))
    assert invite(app).status == st.INVITATION_SENT
    server.wait(1)
    app.config["ORCID_MAIL_PASSWORD"] = "wrong"
    refused = invite(app, email="other@example.edu")
    assert refused.status == st.INVITATION_UNSENT
    assert "refused the configured user name and password" in refused.last_error
    assert "wrong" not in refused.last_error


def test_the_folder_backend_keeps_messages_for_the_demo_mailbox(make_app, tmp_path):
    app = make_app(ORCID_MAIL_BACKEND="folder", ORCID_MAIL_FOLDER=str(tmp_path / "box"),
                   ORCID_MAIL_SENDER="etd@example.edu", ORCID_EXTERNAL_URL="http://demo.test")
    invite(app)
    with app.app_context():
        [stored] = read_folder()
        assert stored.to == "cb@example.edu" and "confirm your ORCID iD" in stored.subject
        assert "http://demo.test/orcid/invitations/" in stored.text and stored.html
        assert read_folder(message_id=stored.id)[0].subject == stored.subject
        assert read_folder(message_id="../box") == []  # never a path of the visitor's
    assert oct((tmp_path / "box").stat().st_mode & 0o777) == "0o700"


def test_a_message_needs_a_sender(make_app):
    app = make_app()
    with app.app_context(), pytest.raises(ConfigurationError, match="ORCID_MAIL_SENDER"):
        build_message("a@example.edu", "s", "t")


def test_send_mail_raises_mail_error_with_no_server(make_app, smtp_server_factory):
    from flask_orcid.mail import MailError

    server = smtp_server_factory()
    server.stop()
    app = make_app(ORCID_MAIL_HOST="127.0.0.1", ORCID_MAIL_PORT=server.port)
    with app.app_context():
        message = EmailMessage()
        message["To"] = "x@example.edu"
        with pytest.raises(MailError):
            send_mail(message)
    assert issubclass(smtplib.SMTPException, OSError)


# -- the link's states ---------------------------------------------------------------------------

def test_unknown_and_mangled_links_get_a_clear_page(mail_app, smtp_server):
    invite(mail_app)
    link = path_of(link_of(smtp_server))
    client = mail_app.test_client()
    for bad in (link[:-3], link + "x", "/orcid/invitations/nothing.here"):
        response = client.get(bad)
        assert response.status_code == 404
        assert "This invitation link is not valid" in response.get_data(as_text=True)


def test_a_link_expires_after_the_configured_days(make_app, smtp_server, monkeypatch):
    app = make_app(ORCID_EXTERNAL_URL="https://t.example", ORCID_INVITATION_DAYS=3,
                   **smtp_server.config())
    with clock_at(monkeypatch, inv.clock.utcnow()) as now:
        invitation = invite(app)
        assert invitation.expires_at == invitation.created_at + timedelta(days=3)
        link = path_of(link_of(smtp_server))
        client = app.test_client()
        now[0] += timedelta(days=3) - timedelta(seconds=1)
        assert client.get(link).status_code == 200
        now[0] += timedelta(seconds=1)
        response = client.get(link)
        assert response.status_code == 410
        assert "This invitation expired on" in response.get_data(as_text=True)
        assert "Ask Ada Lovelace to send you a new one" in response.get_data(as_text=True)
        with app.app_context():
            assert orcid.invitation_status(orcid.get_invitation(invitation.id)) == "expired"
        # starting ORCID's sign-in is refused as well
        assert start_after_expiry(client, link) == 410


def start_after_expiry(client, link):
    return client.post(link + "/start", data={"csrf_token": session_csrf(client)}).status_code


def session_csrf(client) -> str:
    """The extension's per-session CSRF token, as its pages would have put it in a form."""
    with client.session_transaction() as sess:
        sess.setdefault("_orcid_csrf", "a-test-csrf-token")
        return str(sess["_orcid_csrf"])


def test_cancel_and_resend_by_the_inviter(mail_app, smtp_server, hooks, make_user, login):
    invitation = invite(mail_app)
    first = path_of(link_of(smtp_server))
    inviter = make_user(mail_app)  # key "1": allowed by the hooks fixture
    client = mail_app.test_client()
    login(client, inviter)
    token = session_csrf(client)

    response = client.post(f"/orcid/invitations/manage/{invitation.id}/resend",
                           data={"csrf_token": token})
    assert response.status_code == 302
    second = path_of(link_of(smtp_server, count=2))
    assert second != first
    assert client.get(first).status_code == 404  # the resend replaced the link
    assert client.get(second).status_code == 200

    response = client.post(f"/orcid/invitations/manage/{invitation.id}/cancel",
                           data={"csrf_token": token})
    assert response.status_code == 302
    response = client.get(second)
    assert response.status_code == 410
    assert "Ada Lovelace withdrew this invitation" in response.get_data(as_text=True)
    # a cancelled invitation is not sent again
    client.post(f"/orcid/invitations/manage/{invitation.id}/resend", data={"csrf_token": token})
    assert len(smtp_server.messages) == 2
    with mail_app.app_context():
        assert orcid.get_invitation(invitation.id).status == st.INVITATION_CANCELLED


def test_only_whom_the_hook_allows_may_resend_or_cancel(mail_app, smtp_server, hooks,
                                                        make_user, login):
    invitation = invite(mail_app)
    client = mail_app.test_client()
    page = client.get(path_of(link_of(smtp_server))).get_data(as_text=True)
    url = f"/orcid/invitations/manage/{invitation.id}/cancel"
    assert client.post(url, data={"csrf_token": csrf(page)}).status_code == 401  # signed out
    make_user(mail_app)  # key 1
    stranger = make_user(mail_app)  # key 2: not allowed
    login(client, stranger)
    assert client.post(url, data={"csrf_token": csrf(page)}).status_code == 403
    assert client.post(url, data={}).status_code == 400  # no CSRF token
    with mail_app.app_context():
        assert orcid.get_invitation(invitation.id).status == st.INVITATION_OPENED
        assert orcid.may_invite("thesis:7", UserInfo(key="1"))
        assert not orcid.may_invite("thesis:7", UserInfo(key="2"))
        assert not orcid.may_invite("degree:7", UserInfo(key="1"))


def test_without_a_permission_hook_nobody_may_invite(mail_app):
    with mail_app.test_request_context():
        assert not orcid.may_invite("thesis:1", UserInfo(key="1"))


def test_a_host_user_key_may_not_look_like_an_invitees(make_app):
    app = make_app()
    saved = orcid._current_user_loader
    orcid.current_user_loader(lambda: UserInfo(key="orcid-invitee:0000-0002-1825-0097"))
    try:
        with app.test_request_context(), pytest.raises(ConfigurationError, match="reserved"):
            orcid.current_user()
    finally:
        orcid._current_user_loader = saved


def test_the_inviters_list_shows_each_status(mail_app, smtp_server, hooks, monkeypatch):
    with clock_at(monkeypatch, inv.clock.utcnow()) as now:
        sent = invite(mail_app, name="Sent Person", email="s@example.edu")
        cancelled = invite(mail_app, name="Gone Person", email="g@example.edu")
        with mail_app.app_context():
            orcid.cancel_invitation(orcid.get_invitation(cancelled.id))
        now[0] += timedelta(days=20)
        with mail_app.test_request_context():
            from flask import render_template_string

            html = render_template_string(
                '{% import "orcid/invitations_list.html" as l %}{{ l.table(rows) }}',
                rows=orcid.invitations_for("thesis:7"))
    assert f'id="orcid-invitation-{sent.id}"' in html
    assert 'data-status="expired"' in html and 'data-status="cancelled"' in html
    assert html.count(">Resend<") == 1  # the expired one; not the cancelled one

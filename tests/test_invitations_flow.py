"""Invitations end to end against the emulator (issue 15): the emailed link (received over
real SMTP), ORCID's screens with the invitee's names and email prefilled, the callback, and
what the emulator holds afterwards; denial, a link used twice, an invitation closed while the
invitee was at ORCID, a different iD than the typed one, the opt-in connection, its delivery
and its disconnection."""

from __future__ import annotations

import sqlalchemy as sa

from flask_orcid import invitation_accepted, invitation_declined
from flask_orcid.sync import states as st
from tests.invitation_support import (
    SUPERVISION,
    answer,
    authorize_params,
    clock_at,
    csrf,
    emulator_tokens,
    later,
    link_of,
    path_of,
    start,
)
from tests.outbox_support import deliver
from tests.plugins.app import db, orcid
from tests.test_signin_flow import captured

MARIA = "maria@example.edu"
MARIA_ID = "0000-0003-4567-890X"
JOSIAH_ID = "0000-0002-1825-0097"


def invite(app, **kw):
    fields = {"subject": "thesis:7", "name": "María José García Núñez", "email": MARIA,
              "role": "advisor", "inviter_name": "Ada Lovelace", "lang": "en",
              "subject_title": "Notes on the Analytical Engine", "person": "advisor:3",
              "given_names": "María José", "family_names": "García Núñez"}
    fields.update(kw)
    with app.app_context():
        invitation = orcid.invite(**fields)
        return invitation.id


def row(app, invitation_id):
    with app.app_context():
        found = orcid.get_invitation(invitation_id)
        db.session.expunge(found)
        return found


def app_with_mail(make_app, smtp_server, **config):
    return make_app(ORCID_EXTERNAL_URL="https://theses.example.edu", **smtp_server.config(),
                    **config)


def test_an_invitee_proves_their_id_and_only_the_id_is_kept(make_app, smtp_server, hooks,
                                                              emulator):
    app = app_with_mail(make_app, smtp_server)
    invitation_id = invite(app)
    client = app.test_client()
    link = link_of(smtp_server)

    response = start(client, link)
    location = response.headers["Location"]
    assert location.startswith(f"{emulator.url}/oauth/authorize")
    params = authorize_params(location)
    assert params["scope"] == "/authenticate"
    assert params["given_names"] == "María José" and params["family_names"] == "García Núñez"
    assert params["email"] == MARIA and params["lang"] == "en"
    assert params["redirect_uri"].endswith("/orcid/callback")

    with captured(invitation_accepted) as accepted:
        callback = emulator.authorize(location, MARIA)
        response = client.get(path_of(callback))
        assert response.status_code == 302 and response.headers["Location"] == path_of(link)
        page = client.get(path_of(link))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Thank you: your ORCID iD is confirmed" in html
    assert f"{emulator.url}/{MARIA_ID}" in html and 'class="orcid-id-icon"' in html
    assert accepted and accepted[0]["account"] is None
    assert hooks["accepted"] == [(invitation_id, MARIA_ID, None)]

    found = row(app, invitation_id)
    assert found.status == st.INVITATION_AUTHENTICATED and found.orcid == MARIA_ID
    assert found.opted_in is False and found.account_key is None
    with app.app_context():  # no connection: the token was given back at once
        assert orcid.get_account_by_orcid(MARIA_ID) is None
    assert [t["status"] for t in emulator_tokens(emulator, MARIA_ID)] == ["revoked"]

    # the link used again: a clear page, nothing changes
    again = client.get(path_of(link))
    assert again.status_code == 409
    assert "This invitation was already used" in again.get_data(as_text=True)
    other_browser = app.test_client()
    assert other_browser.get(path_of(link)).status_code == 409
    # a replayed callback (the same state) is refused: the state was spent on the server
    replay = client.get(path_of(callback))
    assert replay.status_code in (302, 400)
    assert len(emulator_tokens(emulator, MARIA_ID)) == 1


def test_opted_in_the_work_reaches_the_invitees_record(make_app, smtp_server, hooks, emulator):
    app = app_with_mail(make_app, smtp_server, ORCID_DELIVERY="off")
    invitation_id = invite(app, offer_work=True, lang="es")
    client = app.test_client()
    response = start(client, link_of(smtp_server), add_work=True)
    params = authorize_params(response.headers["Location"])
    assert params["scope"] == "/read-limited /activities/update" and params["lang"] == "es"
    callback = emulator.authorize(response.headers["Location"], MARIA)
    client.get(path_of(callback))
    html = client.get(path_of(link_of(smtp_server))).get_data(as_text=True)
    assert "Gracias: su iD ORCID está confirmado" in html
    assert "Añadiremos este trabajo a su registro ORCID" in html
    assert "Retirar el permiso" in html

    key = f"orcid-invitee:{MARIA_ID}"
    found = row(app, invitation_id)
    assert found.opted_in is True and found.account_key == key
    with app.app_context():
        account = orcid.get_account(key)
        assert account.orcid == MARIA_ID and account.has_scopes("/activities/update")
        stored = db.session.execute(sa.text(
            "SELECT access_token FROM orcid_accounts WHERE user_key = :k"), {"k": key}).scalar()
        assert stored != account.access_token  # encrypted at rest
    deliver(app)
    [work] = [w for w in emulator.record(MARIA_ID)["works"]
              if w["source_client_id"] == emulator.client_id]
    assert work["title"] == "Notes on the Analytical Engine"
    [person] = work["contributors"]
    assert person["orcid"] == MARIA_ID and person["role"] == SUPERVISION

    # withdrawing the permission from the link's page: the token is revoked at ORCID
    page = client.get(path_of(link_of(smtp_server))).get_data(as_text=True)
    response = client.post(path_of(link_of(smtp_server)) + "/disconnect",
                           data={"csrf_token": csrf(page)})
    assert response.status_code == 200 and "Permiso retirado" in response.get_data(as_text=True)
    with app.app_context():
        assert orcid.get_account(key) is None
    assert {t["status"] for t in emulator_tokens(emulator, MARIA_ID)} == {"revoked"}
    # the work stays on the record (it is the researcher's now)
    assert [w for w in emulator.record(MARIA_ID)["works"]
            if w["source_client_id"] == emulator.client_id]


def test_not_ticking_the_box_asks_for_the_id_only(make_app, smtp_server, hooks, emulator):
    app = app_with_mail(make_app, smtp_server)
    invitation_id = invite(app, offer_work=True)
    client = app.test_client()
    page = answer(client, emulator, link_of(smtp_server), MARIA, add_work=False)
    assert "We did not ask for permission to add anything" in page.get_data(as_text=True)
    assert row(app, invitation_id).opted_in is False
    assert hooks["accepted"][0][2] is None


def test_denial_at_orcid_then_a_change_of_mind(make_app, smtp_server, hooks, emulator):
    app = app_with_mail(make_app, smtp_server)
    invitation_id = invite(app, lang="es")
    client = app.test_client()
    link = link_of(smtp_server)
    with captured(invitation_declined) as declined:
        page = answer(client, emulator, link, MARIA, approve=False)
    html = page.get_data(as_text=True)
    assert "No confirmó su iD ORCID" in html and "no se guardó nada" in html
    assert f'href="{path_of(link)}"' in html  # "Try again" leads back to the invitation
    assert declined and row(app, invitation_id).status == st.INVITATION_DECLINED
    assert emulator_tokens(emulator, MARIA_ID) == []

    page = answer(client, emulator, link, MARIA)
    assert page.status_code == 200
    assert row(app, invitation_id).status == st.INVITATION_AUTHENTICATED


def test_a_different_id_than_the_typed_one_is_explained(make_app, smtp_server, hooks, emulator):
    app = app_with_mail(make_app, smtp_server)
    invitation_id = invite(app, typed_orcid=JOSIAH_ID)
    page = answer(app.test_client(), emulator, link_of(smtp_server), MARIA)
    html = page.get_data(as_text=True)
    assert 'id="orcid-invitation-mismatch"' in html
    assert f"This is not the iD we had for you ({JOSIAH_ID})" in html
    found = row(app, invitation_id)
    assert found.orcid == MARIA_ID and found.typed_orcid == JOSIAH_ID


def test_an_invitation_closed_while_at_orcid_stores_nothing(make_app, smtp_server, hooks,
                                                           emulator, monkeypatch):
    app = app_with_mail(make_app, smtp_server)
    invitation_id = invite(app)
    client = app.test_client()
    response = start(client, link_of(smtp_server))
    callback = emulator.authorize(response.headers["Location"], MARIA)
    with clock_at(monkeypatch, later(15)):  # the invitation expired meanwhile
        response = client.get(path_of(callback))
        assert response.status_code == 302
        page = client.get(response.headers["Location"])
    assert page.status_code == 410 and "This invitation expired on" in page.get_data(as_text=True)
    assert emulator_tokens(emulator, MARIA_ID) == []  # the code was never exchanged
    assert row(app, invitation_id).orcid is None and hooks["accepted"] == []


def test_two_browsers_answer_at_once_and_one_wins(make_app, smtp_server, hooks, emulator):
    app = app_with_mail(make_app, smtp_server)
    invitation_id = invite(app)
    link = link_of(smtp_server)
    first, second = app.test_client(), app.test_client()
    callbacks = []
    for client in (first, second):
        response = start(client, link)
        callbacks.append(emulator.authorize(response.headers["Location"], MARIA))
    assert first.get(path_of(callbacks[0])).status_code == 302
    response = second.get(path_of(callbacks[1]))
    page = second.get(response.headers["Location"])
    assert page.status_code == 409 and "already answered" in page.get_data(as_text=True)
    # the loser's tokens were not kept: every token of this client was revoked
    assert {t["status"] for t in emulator_tokens(emulator, MARIA_ID)} == {"revoked"}
    assert len(hooks["accepted"]) == 1 and row(app, invitation_id).orcid == MARIA_ID


def test_a_failing_host_hook_stores_nothing(make_app, smtp_server, hooks, emulator):
    app = app_with_mail(make_app, smtp_server)
    invitation_id = invite(app, offer_work=True)

    @orcid.invitation_accepted
    def broken(invitation, account):
        raise RuntimeError("the host's database is read-only")

    client = app.test_client()
    response = start(client, link_of(smtp_server), add_work=True)
    callback = emulator.authorize(response.headers["Location"], MARIA)
    app.testing = False  # the error becomes a 500 page, as on a real site
    assert client.get(path_of(callback)).status_code == 500
    found = row(app, invitation_id)
    assert found.status == st.INVITATION_OPENED and found.orcid is None
    with app.app_context():
        assert orcid.get_account_by_orcid(MARIA_ID) is None
    assert {t["status"] for t in emulator_tokens(emulator, MARIA_ID)} == {"revoked"}


def test_an_id_a_site_user_connected_keeps_that_users_connection(
        make_app, smtp_server, hooks, emulator, make_user, login, connect):
    app = app_with_mail(make_app, smtp_server)
    user = make_user(app, email=MARIA)
    owner = app.test_client()
    login(owner, user)
    connect(owner, MARIA)
    with app.app_context():
        before = orcid.get_account(str(user.id)).access_token
    invite(app, offer_work=True)
    answer(app.test_client(), emulator, link_of(smtp_server), MARIA, add_work=True)
    with app.app_context():
        account = orcid.get_account_by_orcid(MARIA_ID)
        assert account.user_key == str(user.id) and account.access_token == before
        assert orcid.get_account(f"orcid-invitee:{MARIA_ID}") is None
    assert hooks["accepted"][0][2] == str(user.id)  # the work goes to the user's record rows
    live = [t for t in emulator_tokens(emulator, MARIA_ID) if t["status"] != "revoked"]
    assert len(live) == 1  # the user's own; the invitation's was given back

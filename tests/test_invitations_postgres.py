"""Invitations on PostgreSQL (issue 15): a link is spent once even when two callbacks answer it
at the same moment (the conditional UPDATE decides, under PostgreSQL's row lock), and the
whole flow runs there as on SQLite. Each test works in a schema of its own."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from flask_orcid.sync import invitations as inv
from flask_orcid.sync import states as st
from tests.invitation_support import answer, link_of
from tests.outbox_support import NO_POSTGRES, POSTGRES_URL
from tests.plugins.app import db, orcid

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)

MARIA = "maria@example.edu"
MARIA_ID = "0000-0003-4567-890X"


@pytest.fixture
def pg_app(make_app, smtp_server):
    schema = f"invitations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_app(
            SQLALCHEMY_DATABASE_URI=POSTGRES_URL,
            SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={schema}"}},
            ORCID_EXTERNAL_URL="https://theses.example.edu", **smtp_server.config())
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_two_answers_at_once_spend_the_link_once(pg_app):
    with pg_app.app_context():
        invitation_id = orcid.invite(subject="thesis:1", name="A B", email="ab@example.edu",
                                     send=False).id
        engine = db.engine
    models = orcid.models
    first, second = Session(engine), Session(engine)
    try:
        assert inv.accept(first, models, invitation_id, MARIA_ID, opted_in=False,
                          account_key=None)
        outcome: list[bool] = []
        # the second UPDATE waits for the first transaction's row lock, then finds the row
        # answered and changes nothing
        racer = threading.Thread(target=lambda: outcome.append(inv.accept(
            second, models, invitation_id, "0000-0002-1825-0097", opted_in=False,
            account_key=None)))
        racer.start()
        racer.join(timeout=0.5)
        assert racer.is_alive(), "the second answer did not wait for the first"
        first.commit()
        racer.join(timeout=10)
        assert outcome == [False]
        second.commit()
    finally:
        first.close()
        second.close()
    with pg_app.app_context():
        row = orcid.get_invitation(invitation_id)
        assert row.status == st.INVITATION_AUTHENTICATED and row.orcid == MARIA_ID


def test_the_flow_on_postgresql(pg_app, smtp_server, emulator, invitation_hooks):
    with pg_app.app_context():
        invitation_id = orcid.invite(subject="thesis:7", name="María José García",
                                     email=MARIA, offer_work=True).id
    page = answer(pg_app.test_client(), emulator, link_of(smtp_server), MARIA, add_work=True)
    assert page.status_code == 200
    with pg_app.app_context():
        row = orcid.get_invitation(invitation_id)
        assert row.status == st.INVITATION_AUTHENTICATED and row.opted_in
        assert orcid.get_account(f"orcid-invitee:{MARIA_ID}") is not None

"""Reconciliation (``flask orcid sync``): our rows brought in line with what the record holds."""

from __future__ import annotations

import sqlalchemy as sa

from flask_orcid.protocol.client import ORCIDClient
from tests import outbox_support as shared
from tests.outbox_support import (
    deliver,
    our_items,
    publish,
    retract,
    row,
    thesis,
)
from tests.plugins.app import db, orcid

# the outbox tests' shared fixtures: an app on an SQLite file with a fast backoff, a new
# researcher at the emulator, and the host user who connected their iD
app, researcher, user = shared.app, shared.researcher, shared.user


def test_sync_finds_items_the_researcher_deleted(app, emulator, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    publish(app, user, "thesis:2", thesis(2))
    deliver(app)
    emulator.delete_item(researcher["orcid"], "work", row(app, user, "thesis:1").put_code)
    emulator.reset_requests()
    out = app.test_cli_runner().invoke(args=["orcid", "sync"])
    assert out.exit_code == 0, out.output
    assert f"{researcher['orcid']}: 2 item(s) checked, 1 removed by the researcher" in out.output
    assert row(app, user, "thesis:1").state == "removed_by_researcher"
    assert row(app, user, "thesis:2").state == "synced"
    # summaries only: one GET of /works, no full works
    api = [e for e in emulator.requests()["log"] if "/v3.0/" in e["path"]]
    assert [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in api] == [("GET", "works")]
    # and the next delivery does not post it again
    publish(app, user, "thesis:1", thesis(1, "Edited"))
    deliver(app)
    assert [w["title"] for w in our_items(emulator, researcher["orcid"])] == ["Thesis number 2"]


def test_sync_adopts_an_item_whose_put_code_we_never_learned(app, emulator, user, researcher):
    publish(app, user, "thesis:1", thesis(1, "Lost answer"))
    # a worker sent the POST and died before storing the put-code
    with app.app_context():
        account = orcid.get_account(user)
        client = ORCIDClient(emulator.client_id, emulator.client_secret,
                             environment="emulator", emulator_url=emulator.url)
        put_code = client.add_work(account.orcid, account.access_token,
                                   thesis(1, "Lost answer"))
        Item = orcid.models.Item
        db.session.execute(sa.update(Item).values(last_attempt_at=sa.func.current_timestamp()))
        db.session.commit()
    out = app.test_cli_runner().invoke(args=["orcid", "sync", "--orcid", researcher["orcid"]])
    assert "1 put-code(s) recovered" in out.output
    assert row(app, user, "thesis:1").put_code == put_code
    publish(app, user, "thesis:1", thesis(1, "Lost answer, revised"))
    deliver(app)
    works = our_items(emulator, researcher["orcid"])
    assert [(w["put_code"], w["title"]) for w in works] == [(put_code, "Lost answer, revised")]


def test_sync_completes_a_retraction_the_researcher_did_first(app, emulator, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    emulator.delete_item(researcher["orcid"], "work", row(app, user, "thesis:1").put_code)
    retract(app, user, "thesis:1")
    app.test_cli_runner().invoke(args=["orcid", "sync"])
    done = row(app, user, "thesis:1")
    assert done.state == "synced" and done.put_code is None and done.retracted


def test_sync_with_a_revoked_token_reports_and_parks(app, emulator, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    publish(app, user, "thesis:1", thesis(1, "Pending change"))
    emulator.user_revoke(researcher["orcid"])
    out = app.test_cli_runner().invoke(args=["orcid", "sync"])
    assert "not synchronized" in out.output and "reconnect" in out.output
    assert row(app, user, "thesis:1").park_reason == "auth"
    with app.app_context():
        assert orcid.get_account(user).status == "invalid"


def test_sync_rejects_a_malformed_orcid_id(app):
    out = app.test_cli_runner().invoke(args=["orcid", "sync", "--orcid", "0000-0002-1825-009"])
    assert out.exit_code != 0
    assert "--orcid" in out.output


def test_sync_of_an_unknown_orcid_id_says_so(app):
    out = app.test_cli_runner().invoke(args=["orcid", "sync", "--orcid", "0000-0002-1825-0097"])
    assert out.exit_code != 0 and "No active connection" in out.output

"""The publishing API and the outbox's pages: what a host and a researcher see before and
without any ORCID call."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import session

from flask_orcid import ExternalId, ValidationError, Work
from flask_orcid.sync import outbox as ob
from flask_orcid.sync import webhooks
from tests.outbox_support import degree, publish, retract, row, rows, thesis
from tests.plugins.app import User, db, orcid

OFFLINE = {
    # no ORCID is reachable: nothing here may need one
    "ORCID_EMULATOR_URL": "http://127.0.0.1:9",
    "ORCID_CLIENT_ID": "APP-OFFLINE00000001",
    "ORCID_CLIENT_SECRET": "offline-secret",
    "ORCID_WEBHOOK_SECRET": "webhook-secret-for-tests",
}


@pytest.fixture
def app(make_app):
    return make_app(**OFFLINE)


@pytest.fixture
def admin_hook(monkeypatch):
    monkeypatch.setattr(orcid, "_admin_checker", lambda: bool(session.get("admin")))


def _user(app, **fields) -> int:
    with app.app_context():
        user = User(**fields)
        db.session.add(user)
        db.session.commit()
        return user.id


def _login(client, user_id, admin=False):
    with client.session_transaction() as sess:
        sess["user_id"] = user_id
        sess["admin"] = admin


def test_publish_writes_a_pending_row_in_the_callers_transaction(app):
    with app.app_context():
        orcid.publish("7", "thesis:1", thesis(1))
        db.session.rollback()  # the deposit failed: the intent goes with it
        assert orcid.item_state("7", "thesis:1") is None
        orcid.publish("7", "thesis:1", thesis(1))
        db.session.commit()
    found = row(app, "7", "thesis:1")
    assert found.state == "pending" and found.kind == "work" and found.put_code is None
    assert Work.from_dict(__import__("json").loads(found.payload)) == thesis(1)


def test_publish_refuses_bad_items_at_once_and_stores_nothing(app):
    with app.app_context():
        with pytest.raises(ValidationError) as info:
            orcid.publish("7", "thesis:1", Work(title="", external_ids=[
                ExternalId("handle", "1/2", "self")]))
        assert info.value.field
        with pytest.raises(ValidationError, match="key"):
            orcid.publish("7", "", thesis(1))
        with pytest.raises(ValidationError):
            orcid.publish("7", "x", "not an item")
        db.session.commit()
    assert rows(app) == []


def test_publishing_an_unchanged_item_is_a_no_op(app):
    publish(app, "7", "thesis:1", thesis(1))
    with app.app_context():
        item = orcid.item_state("7", "thesis:1")
        item.state, item.put_code, item.written_hash = "synced", 55, item.payload_hash
        db.session.commit()
        before = item.updated_at
    publish(app, "7", "thesis:1", thesis(1))
    after = row(app, "7", "thesis:1")
    assert after.state == "synced" and after.updated_at == before
    # a changed title makes it pending again, keeping the put-code for a PUT
    publish(app, "7", "thesis:1", thesis(1, "A better title"))
    changed = row(app, "7", "thesis:1")
    assert changed.state == "pending" and changed.put_code == 55
    # and changing it back is "synced" again without any call
    publish(app, "7", "thesis:1", thesis(1))
    assert row(app, "7", "thesis:1").state == "synced"


def test_visibility_and_put_code_are_never_stored(app):
    work = thesis(1)
    work.visibility, work.put_code = "public", 99
    publish(app, "7", "thesis:1", work)
    stored = row(app, "7", "thesis:1").item()
    assert stored.visibility is None and stored.put_code is None


def test_retracting_an_item_never_sent_needs_nothing_from_orcid(app):
    publish(app, "7", "thesis:1", thesis(1))
    retract(app, "7", "thesis:1")
    found = row(app, "7", "thesis:1")
    assert found.retracted and found.state == "synced"
    with app.app_context():
        assert orcid.items_for("7") == []
    retract(app, "7", "unknown:1")  # nothing there: nothing happens
    # publishing again brings it back
    publish(app, "7", "thesis:1", thesis(1))
    assert row(app, "7", "thesis:1").state == "pending"


def test_a_key_published_as_another_kind_retracts_the_old_item(app):
    publish(app, "7", "degree:1", degree(1))
    with app.app_context():
        item = orcid.item_state("7", "degree:1")
        item.state, item.put_code, item.written_hash = "synced", 12, item.payload_hash
        db.session.commit()
    from dataclasses import replace

    publish(app, "7", "degree:1", replace(degree(1), section="qualification"))
    kinds = {(r.kind, r.retracted, r.state) for r in rows(app)}
    assert kinds == {("education", True, "pending"), ("qualification", False, "pending")}
    assert row(app, "7", "degree:1").kind == "qualification"


def test_items_page_lists_what_the_site_wrote_escaped(app):
    user_id = _user(app)
    publish(app, str(user_id), "thesis:1", thesis(1, "<script>alert(1)</script> On mice"))
    client = app.test_client()
    assert client.get("/orcid/items").status_code in (302, 401, 403)
    _login(client, user_id)
    page = client.get("/orcid/items").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; On mice" in page
    assert "<script>alert(1)" not in page
    assert "Waiting to be sent" in page
    assert "once you connect your ORCID iD" in page


def test_resend_needs_csrf_and_only_applies_to_removed_items(app):
    user_id = _user(app)
    publish(app, str(user_id), "thesis:1", thesis(1))
    with app.app_context():
        item = orcid.item_state(str(user_id), "thesis:1")
        item.state, item.put_code = "removed_by_researcher", 41
        db.session.commit()
    client = app.test_client()
    _login(client, user_id)
    page = client.get("/orcid/items").get_data(as_text=True)
    assert "Removed by you" in page and "Send it again" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/orcid/items/resend", data={"key": "thesis:1"}).status_code == 400
    assert row(app, str(user_id), "thesis:1").state == "removed_by_researcher"
    response = client.post("/orcid/items/resend", data={"key": "thesis:1", "csrf_token": token})
    assert response.status_code == 302
    again = row(app, str(user_id), "thesis:1")
    assert again.state == "pending" and again.put_code is None
    # nothing removed under that key any more
    assert client.post("/orcid/items/resend",
                       data={"key": "thesis:1", "csrf_token": token}).status_code == 404


def test_admin_page_is_for_admins_and_retries_parked_rows(app, admin_hook):
    user_id = _user(app)
    publish(app, str(user_id), "thesis:1", thesis(1))
    with app.app_context():
        item = orcid.item_state(str(user_id), "thesis:1")
        item.state, item.park_reason = "parked", "rejected"
        item.error_status, item.error_code = 400, 9037
        item.error_message = "Invalid <work type>"
        db.session.commit()
    client = app.test_client()
    _login(client, user_id)
    assert client.get("/orcid/admin").status_code == 403
    _login(client, user_id, admin=True)
    page = client.get("/orcid/admin").get_data(as_text=True)
    assert 'data-state="parked">1<' in page
    assert client.get("/orcid/admin?events=lots").status_code == 200
    assert "Invalid &lt;work type&gt;" in page and "9037" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/orcid/admin/retry", data={"parked": "1"}).status_code == 400
    response = client.post("/orcid/admin/retry", data={"parked": "1", "csrf_token": token})
    assert response.status_code == 302
    assert row(app, str(user_id), "thesis:1").state == "pending"


def test_webhook_callback_needs_the_signed_url(app):
    client = app.test_client()
    orcid_id = "0000-0002-1825-0097"
    sig = webhooks.signature(app.config, orcid_id)
    assert client.post(f"/orcid/webhook/{orcid_id}/{'0' * 64}").status_code == 404
    assert client.get(f"/orcid/webhook/{orcid_id}/{sig}").status_code == 404
    assert client.post(f"/orcid/webhook/0000-0002-1825-0098/{sig}").status_code == 404
    assert client.post(f"/orcid/webhook/{orcid_id}/{sig}").status_code == 204


def test_webhook_callback_is_refused_without_a_secret(make_app):
    app = make_app(**{**OFFLINE, "ORCID_WEBHOOK_SECRET": None})
    with pytest.raises(Exception, match="ORCID_WEBHOOK_SECRET"):
        webhooks.signature(app.config, "0000-0002-1825-0097")
    response = app.test_client().post("/orcid/webhook/0000-0002-1825-0097/abc")
    assert response.status_code == 404


def test_status_and_retry_commands(app):
    publish(app, "7", "thesis:1", thesis(1))
    publish(app, "7", "thesis:2", thesis(2))
    with app.app_context():
        Item = orcid.models.Item
        db.session.execute(sa.update(Item).where(Item.key == "thesis:1").values(
            state="parked", park_reason="rejected", error_status=400, error_code=9023,
            error_message="An external identifier is required"))
        db.session.execute(sa.update(Item).where(Item.key == "thesis:2").values(
            state="failed", attempts=2, error_status=503, error_message="ORCID is busy"))
        db.session.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(args=["orcid", "status"])
    assert out.exit_code == 0, out.output
    assert re.search(r"parked\s+1", out.output) and re.search(r"failed\s+1", out.output)
    assert "thesis:1 (rejected) [HTTP 400, ORCID 9023]: An external identifier" in out.output
    out = runner.invoke(args=["orcid", "retry"])
    assert "1 item(s) scheduled" in out.output
    assert row(app, "7", "thesis:2").state == "pending"
    assert row(app, "7", "thesis:1").state == "parked"
    out = runner.invoke(args=["orcid", "retry", "--parked", "--key", "thesis:1"])
    assert "1 item(s) scheduled" in out.output
    assert row(app, "7", "thesis:1").state == "pending"


def test_outbox_tables_are_prefixed_and_indexed(app):
    with app.app_context():
        inspector = sa.inspect(db.engine)
        names = set(inspector.get_table_names())
        assert {"orcid_outbox_items", "orcid_outbox_events", "orcid_record_sync"} <= names
        indexes = {i["name"] for i in inspector.get_indexes("orcid_outbox_items")}
        assert "ix_orcid_outbox_todo" in indexes
        uniques = inspector.get_unique_constraints("orcid_outbox_items")
        assert any(set(u["column_names"]) == {"user_key", "kind", "key"} for u in uniques)


def test_counts_cover_every_state(app):
    with app.app_context():
        assert ob.counts(db.session, orcid.models) == dict.fromkeys(ob.STATES, 0)


def test_items_page_in_spanish(app):
    user_id = _user(app)
    publish(app, str(user_id), "thesis:1", thesis(1))
    publish(app, str(user_id), "degree:1", degree(1))
    client = app.test_client()
    _login(client, user_id)
    page = client.get("/orcid/items", headers={"Accept-Language": "es-ES,es;q=0.9"}).get_data(
        as_text=True)
    assert "Lo que este sitio escribió en su registro de ORCID" in page
    assert "Pendiente de envío" in page and "Educación" in page and "Obra" in page
    assert "Waiting to be sent" not in page


def test_an_unknown_delivery_mode_is_refused_at_startup(make_app):
    from flask_orcid import ConfigurationError

    with pytest.raises(ConfigurationError, match="ORCID_DELIVERY"):
        make_app(**OFFLINE, ORCID_DELIVERY="rq")

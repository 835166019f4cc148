"""Webhooks: registration with a client-credentials token, and ORCID calling the site back."""

from __future__ import annotations

import threading
import time
from urllib.parse import unquote

import pytest
from werkzeug.serving import make_server

from flask_orcid.sync import webhooks
from tests.outbox_support import (
    FAST,
    connect_user,
    deliver,
    new_researcher,
    publish,
    row,
    sqlite_file,
    thesis,
)
from tests.plugins.app import orcid

SECRET = "a-long-random-webhook-secret"


@pytest.fixture
def served_app(make_app, emulator, tmp_path):
    """The host site on a real port, so the emulator can call it back."""
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    app = make_app(SQLALCHEMY_DATABASE_URI=sqlite_file(tmp_path), ORCID_WEBHOOK_SECRET=SECRET,
                   **FAST)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["ORCID_WEBHOOK_BASE_URL"] = f"http://127.0.0.1:{server.port}"
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _hooks(emulator):
    return [h for h in emulator.webhooks()["webhooks"] if h["client_id"] == emulator.client_id]


def test_register_list_unregister(served_app, emulator, connect):
    app = served_app
    who = new_researcher(emulator)
    connect_user(app, connect, who)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["orcid", "webhooks", "register"])
    assert out.exit_code == 0, out.output
    assert "1 webhook(s) registered, 0 failed" in out.output
    hooks = _hooks(emulator)
    assert [h["orcid"] for h in hooks] == [who["orcid"]]
    url = unquote(hooks[0]["url"])
    assert f"/orcid/webhook/{who['orcid']}/{webhooks.signature(app.config, who['orcid'])}" in url
    out = runner.invoke(args=["orcid", "webhooks", "list"])
    assert who["orcid"] in out.output and "1 webhook(s)" in out.output
    # registering again is harmless (ORCID answers 204 for an existing hook)
    assert "1 webhook(s) registered" in runner.invoke(
        args=["orcid", "webhooks", "register"]).output
    assert len(_hooks(emulator)) == 1
    out = runner.invoke(args=["orcid", "webhooks", "unregister"])
    assert "1 webhook(s) unregistered" in out.output
    assert _hooks(emulator) == []
    assert "0 webhook(s)." in runner.invoke(args=["orcid", "webhooks", "list"]).output


def test_register_without_a_secret_explains_what_to_set(make_app, emulator):
    app = make_app(ORCID_WEBHOOK_SECRET=None, ORCID_WEBHOOK_BASE_URL="https://x.example")
    out = app.test_cli_runner().invoke(args=["orcid", "webhooks", "register"])
    assert out.exit_code != 0
    assert "ORCID_WEBHOOK_SECRET" in str(out.exception) + out.output


def test_orcid_calling_back_schedules_a_sync_of_that_record(served_app, emulator, connect):
    app = served_app
    who = new_researcher(emulator)
    user = connect_user(app, connect, who)
    publish(app, user, "thesis:1", thesis(1))
    deliver(app)
    app.test_cli_runner().invoke(args=["orcid", "webhooks", "register"])
    # the researcher deletes our item on ORCID; ORCID notifies the site
    emulator.delete_item(who["orcid"], "work", row(app, user, "thesis:1").put_code)
    RecordSync = orcid.models.RecordSync
    for _ in range(50):
        with app.app_context():
            pending = orcid.db.session.get(RecordSync, who["orcid"])
            requested = pending is not None and pending.sync_requested_at is not None
        deliveries = emulator.webhooks()["deliveries"]
        answered = any(d.get("status") == 204 for d in deliveries)
        if requested and answered:
            break
        time.sleep(0.1)
    assert requested and answered, deliveries
    # the next delivery pass re-reads that record and notices the removal
    result = deliver(app)
    assert result.records_synced == 1
    assert row(app, user, "thesis:1").state == "removed_by_researcher"


def test_disconnecting_removes_the_webhook_through_the_worker(served_app, emulator, connect):
    app = served_app
    who = new_researcher(emulator)
    user = connect_user(app, connect, who)
    runner = app.test_cli_runner()
    runner.invoke(args=["orcid", "webhooks", "register"])
    assert len(_hooks(emulator)) == 1
    with app.app_context():
        orcid.disconnect(user)
    assert "0 webhook(s)." in runner.invoke(args=["orcid", "webhooks", "list"]).output
    assert len(_hooks(emulator)) == 1  # nothing called ORCID inside the researcher's request
    deliver(app)
    assert _hooks(emulator) == []
    with app.app_context():
        assert orcid.db.session.get(orcid.models.RecordSync, who["orcid"]) is None


def test_new_connections_get_a_webhook_from_the_worker_when_asked(served_app, emulator,
                                                                    connect):
    app = served_app
    who = new_researcher(emulator)
    connect_user(app, connect, who)
    deliver(app)
    assert _hooks(emulator) == []  # off by default
    app.config["ORCID_WEBHOOK_AUTO_REGISTER"] = True
    deliver(app)
    assert [h["orcid"] for h in _hooks(emulator)] == [who["orcid"]]
    emulator.reset_requests()
    deliver(app)  # nothing new: no token request, no registration
    assert not [e for e in emulator.requests()["log"] if "webhook" in e["path"]
                or e["path"].startswith("/oauth")]

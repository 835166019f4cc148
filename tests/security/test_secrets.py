"""Finding 9 (the webhook signature never reaches a library's log) and the classes that held:
webhook forgery, no plaintext token anywhere in the database or the logs."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from flask_orcid.protocol.client import RedactWebhookCallbacks
from flask_orcid.sync import webhooks
from tests.outbox_support import FAST, connect_user, deliver, new_researcher, publish, thesis
from tests.plugins.app import orcid
from tests.test_webhooks import SECRET, served_app  # noqa: F401 - the served host fixture


def test_webhook_signature_never_reaches_urllib3s_log(served_app, emulator, connect,  # noqa: F811
                                                      caplog):
    caplog.set_level(logging.DEBUG)
    app = served_app
    who = new_researcher(emulator)
    connect_user(app, connect, who)
    out = app.test_cli_runner().invoke(args=["orcid", "webhooks", "register"])
    assert out.exit_code == 0, out.output
    out = app.test_cli_runner().invoke(args=["orcid", "webhooks", "unregister"])
    assert out.exit_code == 0, out.output
    signature = webhooks.signature(app.config, who["orcid"])
    ours = [r for r in caplog.records if r.name != "werkzeug"]  # werkzeug: ORCID's own server
    assert any(r.name.startswith("urllib3") for r in ours)  # urllib3 did log the request line
    text = "\n".join(r.getMessage() for r in ours)
    assert signature not in text
    assert "/webhook/[callback]" in text


def test_redaction_filter_keeps_everything_else():
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1,
                               '%s "%s %s" %s', ("http://x:80", "PUT",
                                                  "/0000-0002-1825-0097/webhook/https%3A%2F%2Fs%2Fsig",
                                                  201), None)
    assert RedactWebhookCallbacks().filter(record)
    assert record.getMessage() == 'http://x:80 "PUT /0000-0002-1825-0097/webhook/[callback]" 201'


@pytest.mark.parametrize("forge", ["bad-signature", "", "x" * 64, "{sig}x", "{sig_upper}"])
def test_forged_webhook_calls_schedule_nothing(served_app, emulator, connect, forge):  # noqa: F811
    app = served_app
    who = new_researcher(emulator)
    connect_user(app, connect, who)
    RecordSync = orcid.models.RecordSync
    with app.app_context():  # the connection's own request to read the record, if any
        row = orcid.db.session.get(RecordSync, who["orcid"])
        connected = row.sync_requested_at if row is not None else None
    good = webhooks.signature(app.config, who["orcid"])
    sig = forge.format(sig=good, sig_upper=good.upper())
    client = app.test_client()
    response = client.post(f"/orcid/webhook/{who['orcid']}/{sig}")
    assert response.status_code in (404, 405, 308)
    # another iD's valid signature does not work for this one
    other = webhooks.signature(app.config, "0000-0002-1825-0097")
    assert client.post(f"/orcid/webhook/{who['orcid']}/{other}").status_code == 404
    assert client.get(f"/orcid/webhook/{who['orcid']}/{good}").status_code == 404
    with app.app_context():
        row = orcid.db.session.get(RecordSync, who["orcid"])
        assert row is None or row.sync_requested_at == connected
    assert client.post(f"/orcid/webhook/{who['orcid']}/{good}").status_code == 204
    with app.app_context():
        row = orcid.db.session.get(RecordSync, who["orcid"])
        assert row.sync_requested_at is not None and row.sync_requested_at != connected


def _all_rows(path: Path) -> str:
    with closing(sqlite3.connect(path)) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return repr([(t, con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables])


def test_no_plaintext_token_in_the_database_or_the_logs(make_app, connect, emulator, tmp_path,
                                                        caplog):
    caplog.set_level(logging.DEBUG)
    database = tmp_path / "tokens.sqlite"
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}", ORCID_WEBHOOK_SECRET=SECRET,
                   **FAST)
    who = new_researcher(emulator)
    key = connect_user(app, connect, who)
    publish(app, key, "thesis-1", thesis(1))
    deliver(app)
    with app.app_context():
        account = orcid.get_account(key)
        secrets = [account.access_token, account.refresh_token]
    assert all(secrets)
    dump = _all_rows(database)
    # reconnecting queues the old tokens for revocation: still encrypted at rest
    with app.app_context():
        orcid.queue_revocations(secrets, who["orcid"])
        orcid.db.session.commit()
    dump += _all_rows(database)
    for secret in secrets:
        assert secret not in dump
        assert secret not in caplog.text

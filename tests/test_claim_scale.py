"""Claiming due rows stays an indexed lookup however many rows the outbox has synced
(issue 11, item 9): the worker's CPU per 1,000 works must not grow with the outbox."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from flask_orcid.sync.claim import claim
from tests.plugins.app import db, orcid


def _fill(app, synced: int, pending: int, held: str = "synced") -> None:
    """``synced`` rows in state ``held`` (synced, or waiting / declined: never to claim), then
    ``pending`` rows to do."""
    now = datetime(2026, 1, 1)
    models = orcid.models
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.insert(models.Account.__table__), [
            {"user_key": f"u{i}", "orcid": f"0000-0002-0000-{i:04d}", "environment": "emulator",
             "scopes": "/activities/update", "access_token": "x", "status": "active",
             "created_at": now, "updated_at": now} for i in range(20)])
        conn.execute(sa.insert(models.Item.__table__), [
            {"user_key": f"u{i % 20}", "kind": "work", "key": f"thesis:{i}", "payload": "{}",
             "payload_hash": "h", "retracted": False, "attempts": 0,
             "state": held if i < synced else "pending", "created_at": now,
             "updated_at": now} for i in range(synced + pending)])


@pytest.mark.parametrize("held", ["synced", "awaiting_approval", "declined"])
def test_claiming_walks_the_rows_to_do_not_the_outbox(make_app, tmp_path, held):
    """Rows waiting for the researcher's approval or declined by them (issue 15, item 3) are
    outside the index like synced ones: never claimed, never walked."""
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'outbox.sqlite'}",
                   ORCID_CLIENT_ID="APP-TEST", ORCID_CLIENT_SECRET="s",
                   ORCID_EMULATOR_URL="http://127.0.0.1:9")
    _fill(app, synced=3000, pending=40, held=held)
    statements: list[str] = []
    with app.app_context():
        def capture(conn, cursor, statement, parameters, context, executemany) -> None:
            if statement.lstrip().upper().startswith("UPDATE ORCID_OUTBOX_ITEMS"):
                statements.append(statement)
        sa.event.listen(db.engine, "before_cursor_execute", capture)
        try:
            with Session(db.engine) as session:
                rows, user_key = claim(session, orcid.models, "token-1", limit=100,
                                       lease_seconds=60)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", capture)
        # the first due researcher's rows, oldest first, one batch, never another's
        assert user_key == "u0" and len(rows) == 2
        assert [r.key for r in rows] == ["thesis:3000", "thesis:3020"]
        with db.engine.connect() as conn:
            sql = statements[0]
            plan = [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql,
                                                       (None,) * sql.count("?"))]
    assert any("ix_orcid_outbox_todo" in line for line in plan), plan
    assert not any("SCAN orcid_outbox_items" in line and "ix_orcid_outbox_todo" not in line
                   for line in plan), plan

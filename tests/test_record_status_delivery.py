"""Issue 12: the extension's answer to a locked, deactivated, deprecated or merged record.

Locked (9018) and deactivated (9044) records park the rows with that reason. A deprecated or
merged record (9007) names its primary iD: the rows move to it and wait until the researcher
connects that iD, then go to the primary record (ORCID cleared the deprecated one).
"""

from __future__ import annotations

import pytest

from flask_orcid.sync.states import PARK_DEACTIVATED, PARK_LOCKED, PARK_MOVED
from tests import outbox_support as shared
from tests.outbox_support import (
    degree,
    deliver,
    new_researcher,
    our_items,
    publish,
    row,
    thesis,
)
from tests.plugins.app import orcid

# the outbox tests' shared fixtures: an app on an SQLite file with a fast backoff, a new
# researcher at the emulator, and the host user who connected their iD
app, researcher, user = shared.app, shared.researcher, shared.user


@pytest.mark.parametrize(("status", "reason", "code"),
                         [("locked", PARK_LOCKED, 9018), ("deactivated", PARK_DEACTIVATED, 9044)])
def test_locked_or_deactivated_record_parks_the_rows_with_that_reason(
        app, emulator, user, researcher, status, reason, code):
    publish(app, user, "thesis:1", thesis(1))
    emulator.record_status(researcher["orcid"], status)
    result = deliver(app)
    assert result.parked == 1 and result.synced == 0
    parked = row(app, user, "thesis:1")
    assert (parked.state, parked.park_reason, parked.error_code) == ("parked", reason, code)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = int(user)
    page = client.get("/orcid/items").get_data(as_text=True)
    assert ("has locked your record" if status == "locked" else "record is deactivated") in page
    with app.app_context():
        assert orcid.get_account(user).status == "active"  # the connection itself is fine
    assert our_items(emulator, researcher["orcid"]) == []


@pytest.mark.parametrize("status", ["deprecated", "merged"])
def test_a_merged_record_moves_the_rows_to_the_primary_id(app, emulator, connect, user, researcher,
                                                          status):
    publish(app, user, "thesis:1", thesis(1))
    publish(app, user, "degree:1", degree(1))
    assert deliver(app).synced == 2
    primary = new_researcher(emulator, "Ada", "King")
    emulator.record_status(researcher["orcid"], status, primary=primary["orcid"])
    publish(app, user, "thesis:2", thesis(2))

    result = deliver(app)
    assert result.synced == 0
    for key in ("thesis:1", "thesis:2", "degree:1"):
        moved = row(app, user, key)
        assert (moved.state, moved.park_reason, moved.orcid, moved.put_code) == (
            "parked", PARK_MOVED, primary["orcid"], None)
        assert primary["orcid"] in moved.error_message
    with app.app_context():
        assert orcid.get_account(user).status == "invalid"  # the token was for the old record

    # the researcher sees why, then connects their primary iD; everything goes to that record
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = int(user)
    page = client.get("/orcid/items").get_data(as_text=True)
    assert "ORCID merged your record into another iD. Connect that iD" in page
    assert connect(client, primary).status_code in (302, 303)
    result = deliver(app)
    assert result.synced == 3 and result.parked == 0
    works = our_items(emulator, primary["orcid"])
    assert sorted(w["title"] for w in works) == ["Thesis number 1", "Thesis number 2"]
    assert [e["role_title"] for e in our_items(emulator, primary["orcid"], "educations")] == ["PhD 1"]
    assert row(app, user, "thesis:1").orcid == primary["orcid"]


def test_a_sync_of_a_merged_record_moves_the_rows_too(app, emulator, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    assert deliver(app).synced == 1
    primary = new_researcher(emulator, "Ada", "Byron")
    emulator.record_status(researcher["orcid"], "merged", primary=primary["orcid"])
    result = app.test_cli_runner().invoke(args=["orcid", "sync"])
    assert result.exit_code == 0, result.output
    moved = row(app, user, "thesis:1")
    assert (moved.state, moved.park_reason, moved.orcid) == ("parked", PARK_MOVED, primary["orcid"])
    with app.app_context():
        assert orcid.get_account(user).orcid == primary["orcid"]

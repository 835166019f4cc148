"""Disconnect then reconnect: the items already on the record are adopted, never posted twice.

Works would be saved by ORCID's 409 on their identifiers; affiliations have nothing to collide
on, so the first pass after every connection reads the record and adopts our matching items
before anything is posted (issue 14, item 2). Assertions read the emulator's record.
"""

from __future__ import annotations

import dataclasses

from flask_orcid import FuzzyDate, Organization
from flask_orcid.protocol.records import AffiliationSummary
from flask_orcid.sync import reconcile
from flask_orcid.sync.matching import item_keys
from tests import outbox_support as shared
from tests.outbox_support import (
    degree,
    deliver,
    our_items,
    publish,
    row,
    self_value,
    thesis,
)
from tests.plugins.app import orcid

# the outbox tests' shared fixtures: an app on an SQLite file with a fast backoff, a new
# researcher at the emulator, and the host user who connected their iD
app, researcher, user = shared.app, shared.researcher, shared.user


def _degree(n, **changes):
    """A degree as the sample repository sends it: no identifier ORCID could collide on."""
    return dataclasses.replace(degree(n), external_ids=[], **changes)


def _disconnect_and_reconnect(app, connect, user, researcher):
    with app.app_context():
        orcid.disconnect(user)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = int(user)
    assert connect(client, researcher).status_code in (302, 303)


def test_reconnecting_adopts_the_degree_and_thesis_instead_of_posting_copies(
        app, emulator, connect, user, researcher):
    publish(app, user, "thesis:1", thesis(1))
    publish(app, user, "degree:1", _degree(1))
    deliver(app)
    before = {s: [i["put_code"] for i in our_items(emulator, researcher["orcid"], s)]
              for s in ("works", "educations")}
    assert [len(v) for v in before.values()] == [1, 1]
    emulator.reset_requests()
    _disconnect_and_reconnect(app, connect, user, researcher)
    # the record is read by the worker, never inside the researcher's request
    assert not [e for e in emulator.requests()["log"]
                if e["method"] == "GET" and e["path"].endswith(("/works", "/educations"))]
    # the repository queues its published thesis and degree again, as the sample does on connect
    publish(app, user, "thesis:1", thesis(1))
    publish(app, user, "degree:1", _degree(1))
    result = deliver(app)
    assert result.failed == 0 and result.parked == 0
    educations = our_items(emulator, researcher["orcid"], "educations")
    works = our_items(emulator, researcher["orcid"])
    assert [e["put_code"] for e in educations] == before["educations"]
    assert [self_value(w) for w in works] == ["20.500.12345/1"]
    assert row(app, user, "degree:1").put_code == before["educations"][0]
    assert row(app, user, "thesis:1").put_code == before["works"][0]
    assert {row(app, user, k).state for k in ("thesis:1", "degree:1")} == {"synced"}


def test_only_the_matching_degree_is_adopted_and_a_different_one_is_posted(
        app, emulator, connect, user, researcher):
    publish(app, user, "degree:1", _degree(1))
    deliver(app)
    first = our_items(emulator, researcher["orcid"], "educations")[0]["put_code"]
    _disconnect_and_reconnect(app, connect, user, researcher)
    # the same degree, and another one whose dates are not on the record
    publish(app, user, "degree:1", _degree(1))
    later = _degree(2, end_date=FuzzyDate(2025, 1))
    publish(app, user, "degree:2", later)
    deliver(app)
    educations = our_items(emulator, researcher["orcid"], "educations")
    assert sorted(e["role_title"] for e in educations) == ["PhD 1", "PhD 2"]
    assert row(app, user, "degree:1").put_code == first


def test_only_our_own_summaries_are_candidates_for_adoption():
    org = Organization(name="Université  de Genève", country="ch")
    wanted = _degree(1, organization=Organization(name="universite de geneve", country="CH"))

    class Reader:
        def read_affiliations(self, orcid_id, token, section):
            return [AffiliationSummary(put_code=code, section="education", organization=org,
                                       department=wanted.department,
                                       role_title=wanted.role_title,
                                       start_date=wanted.start_date, end_date=wanted.end_date,
                                       source_client_id=source)
                    for code, source in ((5, None), (6, "APP-PEER"), (7, "APP-OURS"))]

    ours, keys = reconcile._read_ours(Reader(), "0000-0000-0000-0000", "t", ["education"],
                                      "APP-OURS")
    assert ours == {"education": {7}}
    assert [keys["education"][k] for k in item_keys(wanted) if k in keys["education"]] == [[7]]


def test_nothing_is_posted_while_the_reconnected_record_cannot_be_read(
        app, emulator, connect, user, researcher):
    publish(app, user, "degree:1", _degree(1))
    deliver(app)
    first = our_items(emulator, researcher["orcid"], "educations")[0]["put_code"]
    _disconnect_and_reconnect(app, connect, user, researcher)
    publish(app, user, "degree:1", _degree(1))
    emulator.fault(method="GET", path=r"/educations$", action="status", status=503, count=1)
    assert deliver(app).claimed == 0  # the read failed: the row waits for it, unsent
    assert row(app, user, "degree:1").state == "pending"
    deliver(app)
    assert [e["put_code"] for e in our_items(emulator, researcher["orcid"], "educations")] == [
        first]
    assert row(app, user, "degree:1").put_code == first

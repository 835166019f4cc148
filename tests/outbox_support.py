"""Helpers shared by the outbox tests (delivery, sync, webhooks, PostgreSQL, reliability)."""

from __future__ import annotations

import itertools
import os
import uuid
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from flask_orcid import Affiliation, ExternalId, FuzzyDate, Organization, Work
from flask_orcid.sync.clients import client_from_config
from flask_orcid.sync.reconcile import process_sync_requests
from tests.plugins.app import User, db, orcid

_serial = itertools.count(1)

POSTGRES_URL = os.environ.get("FLASK_ORCID_TEST_POSTGRES")
#: the newest migration of the extension (every table change adds one: update this, and
#: ORCID_TABLES in test_migrations.py for a new table)
ORCID_HEAD = "orcid_0009"
NO_POSTGRES = "FLASK_ORCID_TEST_POSTGRES is not set (no PostgreSQL server to test against)"


def thesis(n: int | str, title: str | None = None, *, handle_prefix: str = "20.500.12345") -> Work:
    """A thesis with a handle as its ``self`` id (what the example repository publishes)."""
    return Work(
        title=title or f"Thesis number {n}",
        type="dissertation-thesis",
        publication_date=FuzzyDate(2024, 6),
        external_ids=[ExternalId("handle", f"{handle_prefix}/{n}", "self",
                                 f"https://hdl.handle.net/{handle_prefix}/{n}")],
    )


def degree(n: int | str, emulator: Any | None = None) -> Affiliation:
    """An education affiliation for a degree; the organization is one the emulator knows."""
    ror = "https://ror.org/05gq02987"
    return Affiliation(
        section="education",
        organization=Organization(name="Brown University", city="Providence",
                                  region="RI", country="US", disambiguated_id=ror,
                                  disambiguation_source="ROR"),
        department="Graduate School",
        role_title=f"PhD {n}",
        start_date=FuzzyDate(2019, 9),
        end_date=FuzzyDate(2024, 6),
        external_ids=[ExternalId("other-id", f"degree-{n}", "self")],
    )


def new_researcher(emulator: Any, given: str = "Test", family: str | None = None) -> dict:
    """A fresh researcher on the emulator (so tests don't share records)."""
    n = next(_serial)
    tag = uuid.uuid4().hex[:8]
    response = requests.post(
        f"{emulator.url}/_emulator/researchers",
        json={"given_names": given, "family_name": family or f"Researcher{n}",
              "email": f"r{n}-{tag}@example.edu", "password": f"pw-{tag}"},
        timeout=10,
    )
    response.raise_for_status()
    data = response.json()
    data.setdefault("email", f"r{n}-{tag}@example.edu")
    data.setdefault("password", f"pw-{tag}")
    return data


def connect_user(app: Any, connect: Any, researcher: dict, **user_fields: Any) -> str:
    """A host user who connects ``researcher``'s iD through the real flow; their key."""
    with app.app_context():
        user = User(email=researcher.get("email"), **user_fields)
        db.session.add(user)
        db.session.commit()
        user_id = user.id
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user_id"] = user_id
    response = connect(client, researcher)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    with app.app_context():
        account = orcid.get_account(str(user_id))
        assert account is not None and account.orcid == researcher["orcid"]
    return str(user_id)


def our_items(emulator: Any, orcid_id: str, section: str = "works") -> list[dict]:
    """The items our client added to the record, as the emulator holds them."""
    record = emulator.record(orcid_id)
    return [w for w in record.get(section, []) if w.get("source_client_id") == emulator.client_id]


def self_value(item: dict) -> str:
    return next(x["value"] for x in item["external_ids"] if x.get("relationship") == "self")


def rows(app: Any) -> list:
    """Every outbox row (detached), for assertions."""
    Item = orcid.models.Item
    with app.app_context():
        found = db.session.scalars(sa.select(Item).order_by(Item.id)).all()
        db.session.expunge_all()
        return found


def row(app: Any, user_key: str, key: str):
    with app.app_context():
        found = orcid.item_state(user_key, key)
        if found is not None:
            db.session.expunge(found)
        return found


def publish(app: Any, user_key: str, key: str, item: Any) -> None:
    with app.app_context():
        orcid.publish(user_key, key, item)
        db.session.commit()


def retract(app: Any, user_key: str, key: str) -> None:
    with app.app_context():
        orcid.retract(user_key, key)
        db.session.commit()


def read_connected_records(app: Any) -> int:
    """What a pass does before claiming: read each newly connected record (and adopt our
    items on it). Tests that claim rows themselves call this first."""
    with app.app_context():
        client = client_from_config(app.config, worker=True)
        return process_sync_requests(app, db, orcid.models, client)


def deliver(app: Any, **kwargs: Any):
    """One delivery pass (the same code as ``flask orcid deliver``)."""
    with app.app_context():
        return orcid.deliverer(app, **kwargs).run_once()


FAST = {
    # the outbox owns retries; make its backoff short so tests converge in seconds
    "ORCID_RETRY_BASE_SECONDS": 0.05,
    "ORCID_RETRY_MAX_SECONDS": 0.5,
    "ORCID_READ_TIMEOUT": 1.0,
    "ORCID_CONNECT_TIMEOUT": 1.0,
    "ORCID_RATE_LIMIT": 1000.0,
    "ORCID_RATE_BURST": 1000,
}


def sqlite_file(tmp_path: Any) -> str:
    """A file database: delivery threads need their own connections."""
    return f"sqlite:///{tmp_path / 'outbox.db'}"


def item_suffix(section: str, put_code: int | str) -> str:
    """The end of one item's API path (``/{section}/{put-code}``); ``put_code=r"\\d+"`` with
    ``$`` appended makes it a pattern for fault scripts."""
    return f"/{section}/{put_code}"


# -- the fixtures every outbox test module shares (import them: ``from tests.outbox_support
# import app, researcher, user``); they replace the plain ``app`` of tests/plugins/app.py with
# one on an SQLite file and a fast backoff, against an emulator without a rate limit.

@pytest.fixture
def app(make_app: Any, emulator: Any, tmp_path: Any) -> Any:
    emulator.limits(rate=10000, burst=10000, latency_ms=0)
    return make_app(SQLALCHEMY_DATABASE_URI=sqlite_file(tmp_path), **FAST)


@pytest.fixture
def researcher(emulator: Any) -> dict:
    return new_researcher(emulator, "Ada", "Lovelace")


@pytest.fixture
def user(app: Any, connect: Any, researcher: dict) -> str:
    return connect_user(app, connect, researcher)

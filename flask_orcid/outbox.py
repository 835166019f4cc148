"""The outbox: what the site wants on each researcher's ORCID record, and what is there.

``publish`` and ``retract`` only write rows in the caller's database session, so a deposit and
the intent to post it commit together or not at all; no ORCID call happens inside a request.
The delivery worker (:mod:`flask_orcid.delivery`) converges each row later.

One :class:`OutboxItem` row per (user key, kind, key): the desired payload (``to_dict`` JSON)
and its hash, the put-code ORCID gave us, the hash of what we last wrote, a state and the last
error. Rows reference the host's user key, not an account id: publishing for someone who has
not connected yet is recorded and delivered once they connect. An event row records every
attempt (operation, HTTP status, ORCID code, duration; never a token).
"""

from __future__ import annotations

import hashlib
import json
import weakref
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from .errors import ValidationError
from .vocabulary import AFFILIATION_SECTIONS

#: Row states.
PENDING = "pending"
SYNCED = "synced"
FAILED = "failed"
PARKED = "parked"
REMOVED = "removed_by_researcher"
STATES = (PENDING, SYNCED, FAILED, PARKED, REMOVED)

#: Why a row is parked. ``auth`` and ``scope`` rows resume by themselves when the researcher
#: reconnects; the others wait for an admin's ``retry`` or a new ``publish``.
PARK_AUTH = "auth"
PARK_SCOPE = "scope"
PARK_REJECTED = "rejected"
PARK_GAVE_UP = "gave_up"
PARK_CONFLICT = "conflict"
RESUME_ON_RECONNECT = (PARK_AUTH, PARK_SCOPE)



def utcnow() -> datetime:
    """Naive UTC, the one datetime flavour stored (SQLite keeps no time zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class OutboxModels:
    """The SQLAlchemy classes :func:`define_models` made for one ``db``."""

    Item: Any
    Event: Any
    RecordSync: Any
    Account: Any


_MODELS: weakref.WeakKeyDictionary[Any, OutboxModels] = weakref.WeakKeyDictionary()


def define_models(db: Any, Account: Any) -> OutboxModels:
    """Define the outbox tables on the host's Flask-SQLAlchemy ``db`` (once per ``db``).

    Tables are prefixed ``orcid_`` and are plain declarative models, so ``db.create_all()``
    and Alembic autogenerate see them.
    """
    try:
        return _MODELS[db]
    except KeyError:
        pass

    class OutboxItem(db.Model):  # type: ignore[name-defined]
        """One item the site wants on one researcher's record."""

        __tablename__ = "orcid_outbox_items"
        __table_args__ = (
            sa.UniqueConstraint("user_key", "kind", "key", name="uq_orcid_outbox_item"),
            # the worker's "what is due" query
            sa.Index("ix_orcid_outbox_due", "state", "next_attempt_at"),
            sa.Index("ix_orcid_outbox_user_state", "user_key", "state"),
            sa.Index("ix_orcid_outbox_orcid", "orcid"),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        user_key = sa.Column(sa.String(255), nullable=False)
        #: "work" or an affiliation section ("education", ...)
        kind = sa.Column(sa.String(32), nullable=False)
        #: the host's stable id for the item ("thesis:42")
        key = sa.Column(sa.String(255), nullable=False)
        #: desired state: the item's ``to_dict()`` JSON; kept after a retraction for display
        payload = sa.Column(sa.Text, nullable=False)
        payload_hash = sa.Column(sa.String(64), nullable=False)
        #: True once the host retracted the item: it should not be on the record
        retracted = sa.Column(sa.Boolean, nullable=False, default=False)
        #: the iD of the record ``put_code`` belongs to
        orcid = sa.Column(sa.String(19))
        put_code = sa.Column(sa.BigInteger)
        #: hash of the payload last written successfully (POST or PUT)
        written_hash = sa.Column(sa.String(64))
        state = sa.Column(sa.String(24), nullable=False, default=PENDING)
        park_reason = sa.Column(sa.String(24))
        attempts = sa.Column(sa.Integer, nullable=False, default=0)
        next_attempt_at = sa.Column(sa.DateTime)
        last_attempt_at = sa.Column(sa.DateTime)
        error_status = sa.Column(sa.Integer)
        error_code = sa.Column(sa.Integer)
        error_message = sa.Column(sa.Text)
        lease_owner = sa.Column(sa.String(64))
        lease_expires_at = sa.Column(sa.DateTime)
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
        updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
        synced_at = sa.Column(sa.DateTime)

        def item(self):
            """The desired item, rebuilt from the stored payload."""
            return item_from_payload(self.kind, json.loads(self.payload))

        @property
        def title(self) -> str:
            data = json.loads(self.payload)
            if self.kind == "work":
                return str(data.get("title") or "")
            org = data.get("organization") or {}
            parts = [data.get("role_title"), org.get("name")]
            return ", ".join(p for p in parts if p)

        @property
        def on_record(self) -> bool:
            """Whether the item is on the researcher's record as far as we know."""
            return self.put_code is not None and self.state != REMOVED

        def __repr__(self) -> str:
            return f"<OutboxItem {self.user_key!r} {self.kind}:{self.key!r} {self.state}>"

    class OutboxEvent(db.Model):  # type: ignore[name-defined]
        """One attempt to converge one row: the audit log (no tokens, no payloads)."""

        __tablename__ = "orcid_outbox_events"
        __table_args__ = (
            sa.Index("ix_orcid_outbox_events_created", "created_at"),
            sa.Index("ix_orcid_outbox_events_user", "user_key"),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        item_id = sa.Column(sa.Integer, index=True)
        user_key = sa.Column(sa.String(255), nullable=False)
        orcid = sa.Column(sa.String(19))
        kind = sa.Column(sa.String(32))
        key = sa.Column(sa.String(255))
        #: POST, POST bulk, PUT, DELETE, GET works, adopt, sync
        operation = sa.Column(sa.String(24), nullable=False)
        status = sa.Column(sa.Integer)
        error_code = sa.Column(sa.Integer)
        outcome = sa.Column(sa.String(24))
        message = sa.Column(sa.Text)
        put_code = sa.Column(sa.BigInteger)
        duration_ms = sa.Column(sa.Integer)
        worker = sa.Column(sa.String(64))
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)

    class RecordSync(db.Model):  # type: ignore[name-defined]
        """Per record: webhook registration and pending sync requests (from webhooks)."""

        __tablename__ = "orcid_record_sync"

        orcid = sa.Column(sa.String(19), primary_key=True)
        webhook_url = sa.Column(sa.Text)
        webhook_registered_at = sa.Column(sa.DateTime)
        sync_requested_at = sa.Column(sa.DateTime, index=True)
        last_synced_at = sa.Column(sa.DateTime)
        #: set when the researcher disconnected: the worker removes the hook at ORCID, then
        #: this row (the iD is kept only until then)
        unregister_requested_at = sa.Column(sa.DateTime)

    models = OutboxModels(Item=OutboxItem, Event=OutboxEvent, RecordSync=RecordSync,
                          Account=Account)
    _MODELS[db] = models
    return models


# -- payloads ---------------------------------------------------------------------------------

def item_from_payload(kind: str, data: dict):
    """Rebuild a ``Work`` or ``Affiliation`` from its stored ``to_dict()`` form."""
    from .model import Affiliation, Work

    return (Work if kind == "work" else Affiliation).from_dict(data)


def _strip(item):
    """The item as we store it: no put-code (ours to manage) and no visibility.

    Visibility belongs to the researcher (API-FACTS §5: a PUT with a different visibility is
    refused with 9035), so the outbox never sends one.
    """
    kwargs = {}
    if getattr(item, "put_code", None) is not None:
        kwargs["put_code"] = None
    if getattr(item, "visibility", None) is not None:
        kwargs["visibility"] = None
    return replace(item, **kwargs) if kwargs else item


def payload_of(item) -> tuple[str, str]:
    """Canonical JSON of an item and its SHA-256: equal items give equal hashes."""
    text = json.dumps(_strip(item).to_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check(user_key: str, key: str) -> None:
    if not isinstance(user_key, str) or not user_key.strip():
        raise ValidationError("publish needs the user's key (a non-empty string).", "user_key")
    if not isinstance(key, str) or not key.strip():
        raise ValidationError("publish needs the item's key, e.g. 'thesis:42'.", "key")
    if len(key) > 255 or len(user_key) > 255:
        raise ValidationError("user and item keys are limited to 255 characters.", "key")


# -- the publishing API ----------------------------------------------------------------------

def publish(session, models: OutboxModels, user_key: str, key: str, item) -> Any:
    """Record that ``item`` should be on ``user_key``'s record under ``key``.

    Validates at once (``ValidationError`` naming the field) and only adds or changes rows in
    ``session``: the caller commits. Publishing an unchanged item changes nothing.
    Returns the row. Two transactions publishing the same new key at the same moment: the
    second commit fails on the unique (user_key, kind, key) constraint, as the host would
    want for a double submission.
    """
    _check(user_key, key)
    kind = getattr(item, "kind", None)
    if kind != "work" and kind not in AFFILIATION_SECTIONS:
        raise ValidationError(
            "publish takes a Work or an Affiliation with a known section.", "item"
        )
    item.validate()
    text, digest = payload_of(item)
    Item = models.Item
    rows = session.execute(
        sa.select(Item).where(Item.user_key == user_key, Item.key == key)
    ).scalars().all()
    row = None
    for other in rows:
        if other.kind == kind:
            row = other
        elif not other.retracted:
            # The host re-published the key as another kind: the old item goes away.
            _retract_row(other)
    if row is None:
        row = Item(user_key=user_key, kind=kind, key=key, payload=text, payload_hash=digest,
                   retracted=False, state=PENDING, attempts=0)
        session.add(row)
        return row
    if row.payload_hash == digest and not row.retracted:
        return row  # unchanged: a no-op
    row.payload = text
    row.payload_hash = digest
    row.retracted = False
    if row.state == REMOVED:
        # The researcher removed it; a new version is not a reason to put it back
        # (only ``resend`` does that).
        return row
    if row.put_code is not None and row.written_hash == digest:
        row.state = SYNCED  # back to what is already on the record
    else:
        row.state = PENDING
    _clear_error(row)
    return row


def retract(session, models: OutboxModels, user_key: str, key: str) -> None:
    """Record that the item under ``key`` should no longer be on the record (caller commits)."""
    _check(user_key, key)
    Item = models.Item
    for row in session.execute(
        sa.select(Item).where(Item.user_key == user_key, Item.key == key)
    ).scalars():
        if not row.retracted:
            _retract_row(row)


def _retract_row(row) -> None:
    row.retracted = True
    if row.state == REMOVED:
        # already gone from the record; nothing to delete
        row.put_code = None
        row.state = SYNCED
        _clear_error(row)
        return
    if row.put_code is None and row.last_attempt_at is None:
        # never claimed by a worker (claiming stamps last_attempt_at): nothing to undo
        row.state = SYNCED
    else:
        row.state = PENDING
    _clear_error(row)


def _clear_error(row) -> None:
    row.park_reason = None
    row.attempts = 0
    row.next_attempt_at = None
    row.error_status = None
    row.error_code = None
    row.error_message = None


def resend(session, models: OutboxModels, user_key: str, key: str) -> bool:
    """Post again an item the researcher removed from their record (their explicit choice).

    Returns False when there is no removed item under ``key``.
    """
    Item = models.Item
    done = False
    for row in session.execute(
        sa.select(Item).where(Item.user_key == user_key, Item.key == key, Item.state == REMOVED)
    ).scalars():
        row.put_code = None
        row.written_hash = None
        row.state = PENDING
        _clear_error(row)
        done = True
    return done


def items_for(session, models: OutboxModels, user_key: str) -> list:
    """Every item the site wrote or will write to ``user_key``'s record, newest first.

    Retracted items that are no longer on the record are left out.
    """
    Item = models.Item
    rows = session.execute(
        sa.select(Item).where(Item.user_key == user_key).order_by(Item.created_at.desc(),
                                                                  Item.id.desc())
    ).scalars().all()
    return [r for r in rows if not (r.retracted and r.state == SYNCED)]


def item_state(session, models: OutboxModels, user_key: str, key: str):
    """The row for ``key`` (the live one when the key changed kind), or None."""
    Item = models.Item
    rows = session.execute(
        sa.select(Item).where(Item.user_key == user_key, Item.key == key).order_by(Item.id)
    ).scalars().all()
    live = [r for r in rows if not r.retracted]
    return (live or rows or [None])[-1]


def retry(session, models: OutboxModels, *, parked: bool = False, key: str | None = None,
          user_key: str | None = None) -> int:
    """Make failed rows (and parked ones with ``parked``) due now; returns how many."""
    Item = models.Item
    states = [FAILED, PARKED] if parked else [FAILED]
    stmt = sa.update(Item).where(Item.state.in_(states))
    if key is not None:
        stmt = stmt.where(Item.key == key)
    if user_key is not None:
        stmt = stmt.where(Item.user_key == user_key)
    result = session.execute(
        stmt.values(state=PENDING, attempts=0, next_attempt_at=None, park_reason=None,
                    updated_at=utcnow())
    )
    return result.rowcount or 0


def resume_reconnected(session, models: OutboxModels, user_key: str | None = None) -> int:
    """Rows parked for a lost or insufficient connection become pending once it is active.

    Called on ``orcid_connected`` and at the start of every delivery pass, so rows resume
    even if the signal was missed. Only a connection renewed after the row was parked counts
    (a 403 for a missing scope leaves the account active: resuming at once would loop).
    """
    Item, Account = models.Item, models.Account
    renewed = sa.exists().where(Account.user_key == Item.user_key, Account.status == "active",
                                Account.updated_at > Item.updated_at)
    stmt = sa.update(Item).where(
        Item.state == PARKED, Item.park_reason.in_(RESUME_ON_RECONNECT), renewed,
    )
    if user_key is not None:
        stmt = stmt.where(Item.user_key == user_key)
    result = session.execute(
        stmt.values(state=PENDING, attempts=0, next_attempt_at=None, park_reason=None,
                    updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def park_lost_connections(session, models: OutboxModels) -> int:
    """Rows waiting for a connection ORCID no longer accepts become parked with the reason.

    A 401 parks the rows of the batch at hand; this sweep (at the start of every delivery
    pass) catches the rest: rows published afterwards, or written back by another worker
    after the connection was marked invalid. Rows of users who never connected stay pending.
    """
    from .delivery import AUTH_MESSAGE

    Item, Account = models.Item, models.Account
    now = utcnow()
    lost = sa.select(Account.user_key).where(Account.status != "active")
    result = session.execute(
        sa.update(Item).where(
            Item.state.in_((PENDING, FAILED)), Item.user_key.in_(lost),
            sa.or_(Item.lease_owner.is_(None), Item.lease_expires_at < now),
        ).values(state=PARKED, park_reason=PARK_AUTH, next_attempt_at=None, error_status=401,
                 error_code=None, error_message=AUTH_MESSAGE, lease_owner=None,
                 lease_expires_at=None, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def prune_events(session, models: OutboxModels, days: float) -> int:
    """Delete event rows older than ``days``: the audit log keeps what is useful, not all."""
    from datetime import timedelta

    Event = models.Event
    result = session.execute(
        sa.delete(Event).where(Event.created_at < utcnow() - timedelta(days=days)),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def forget_user(session, models: OutboxModels, user_key: str, orcid: str | None = None) -> None:
    """Disconnect: remove everything the outbox stored for this connection (caller commits).

    What is already on the ORCID record stays there (it is the researcher's to keep or delete).
    """
    Item, Event, RecordSync = models.Item, models.Event, models.RecordSync
    session.execute(sa.delete(Item).where(Item.user_key == user_key),
                    execution_options={"synchronize_session": False})
    session.execute(sa.delete(Event).where(Event.user_key == user_key),
                    execution_options={"synchronize_session": False})
    if orcid:
        # a registered webhook must be removed at ORCID first (by the worker, not in the
        # researcher's request); everything else about the record goes now
        session.execute(
            sa.update(RecordSync).where(RecordSync.orcid == orcid,
                                        RecordSync.webhook_url.is_not(None))
            .values(unregister_requested_at=utcnow(), sync_requested_at=None,
                    last_synced_at=None),
            execution_options={"synchronize_session": False})
        session.execute(sa.delete(RecordSync).where(RecordSync.orcid == orcid,
                                                    RecordSync.webhook_url.is_(None)),
                        execution_options={"synchronize_session": False})


def counts(session, models: OutboxModels) -> dict[str, int]:
    """Rows per state (every state present, zero included)."""
    Item = models.Item
    result = dict.fromkeys(STATES, 0)
    for state, n in session.execute(
        sa.select(Item.state, sa.func.count()).group_by(Item.state)
    ):
        result[state] = n
    return result


# -- the extension's side (``ORCID`` inherits this) -------------------------------------------

class OutboxMixin:
    """The outbox methods of the ``ORCID`` extension object.

    Kept here so the extension module only calls two hooks: ``_init_outbox()`` when the
    models are defined and ``_init_outbox_app(app)`` in ``init_app``.
    """

    db: Any
    Account: Any
    outbox_models: OutboxModels

    def _init_outbox(self) -> None:
        self.outbox_models = define_models(self.db, self.Account)

        def forget(account) -> None:
            forget_user(self.db.session, self.outbox_models, account.user_key, account.orcid)

        self.on_account_removed(forget)  # type: ignore[attr-defined]

    def _init_outbox_app(self, app) -> None:
        from . import outbox_views
        from .signals import orcid_connected

        mode = app.config.get("ORCID_DELIVERY", "off")
        if mode not in ("off", "thread"):
            from .errors import ConfigurationError

            raise ConfigurationError(
                f"ORCID_DELIVERY is {mode!r}; set it to 'off' (run `flask orcid deliver`) or "
                "'thread' (deliver in a background thread of the web process)."
            )
        state = app.extensions["orcid_outbox"] = _OutboxAppState()
        app.register_blueprint(outbox_views.bp,
                               url_prefix=app.config.get("ORCID_URL_PREFIX") or None)
        outbox_views.exempt_from_csrf(app)

        @app.before_request
        def _outbox_before_request() -> None:
            # CSRFProtect set up after ORCID: exempt the webhook now; start the background
            # deliverer on the first request (not at import, not in CLI commands).
            if not state.checked:
                state.checked = True
                outbox_views.exempt_from_csrf(app)
                if app.config.get("ORCID_DELIVERY") == "thread":
                    self.start_delivery(app)

        app.jinja_env.globals["orcid_outbox_items"] = self._items_for_template
        orcid_connected.connect(_on_connected, weak=False)
        _listen_commits(self.db)

    def _register_outbox_commands(self, group) -> None:
        from .outbox_cli import register_commands

        register_commands(group)

    # -- publishing

    def publish(self, user_key: str, key: str, item) -> None:
        """Record that ``item`` belongs on ``user_key``'s record (committed by the caller)."""
        publish(self.db.session, self.outbox_models, str(user_key), key, item)
        self.db.session.info["orcid_wake"] = True

    def retract(self, user_key: str, key: str) -> None:
        """Record that the item under ``key`` should leave the record (committed by the caller)."""
        retract(self.db.session, self.outbox_models, str(user_key), key)
        self.db.session.info["orcid_wake"] = True

    def items_for(self, user_key: str) -> list:
        """What the site wrote or will write to ``user_key``'s record."""
        return items_for(self.db.session, self.outbox_models, str(user_key))

    def item_state(self, user_key: str, key: str):
        """The outbox row for ``key``, or None."""
        return item_state(self.db.session, self.outbox_models, str(user_key), key)

    def resend(self, user_key: str, key: str) -> bool:
        """Post again an item the researcher removed (commit afterwards)."""
        done = resend(self.db.session, self.outbox_models, str(user_key), key)
        if done:
            self.db.session.info["orcid_wake"] = True
        return done

    def _items_for_template(self, user_key: str) -> list:
        from flask import current_app

        from .outbox_views import items_context

        return items_context(current_app.extensions["orcid"].extension, user_key)["items"]

    # -- delivery

    def deliverer(self, app=None, **kwargs):
        """A :class:`~flask_orcid.delivery.Deliverer` for ``app`` (default: the current one)."""
        from flask import current_app

        from .delivery import Deliverer

        app = app or current_app._get_current_object()
        return Deliverer(app, self.db, self.outbox_models, **kwargs)

    def start_delivery(self, app=None, interval: float | None = None):
        """Start the in-process background deliverer for ``app`` (idempotent)."""
        from flask import current_app

        from .delivery import BackgroundDelivery

        app = app or current_app._get_current_object()
        state = app.extensions["orcid_outbox"]
        with state.lock:
            if state.background is None:
                def revocations() -> None:
                    # tokens ORCID could not revoke at disconnect time get another try
                    with app.app_context():
                        self.retry_pending_revocations(limit=50)  # type: ignore[attr-defined]

                state.background = BackgroundDelivery(
                    self.deliverer(app),
                    float(interval or app.config.get("ORCID_DELIVERY_INTERVAL", 5.0)),
                    after_pass=revocations)
            state.background.start()
        return state.background

    def stop_delivery(self, app=None) -> None:
        from flask import current_app

        app = app or current_app._get_current_object()
        state = app.extensions["orcid_outbox"]
        with state.lock:
            if state.background is not None:
                state.background.stop()
                state.background = None

    def wake_delivery(self) -> None:
        """Ask the background deliverer (if running) for a pass now."""
        from flask import current_app, has_app_context

        if not has_app_context():
            return
        state = current_app.extensions.get("orcid_outbox")
        if state is not None and state.background is not None:
            state.background.wake()


@dataclass
class _OutboxAppState:
    background: Any = None
    checked: bool = False
    lock: Any = None

    def __post_init__(self) -> None:
        import threading

        self.lock = threading.Lock()


def _on_connected(app, account=None, user_key=None, **extra) -> None:
    """A (re)connection resumes the rows parked for the lost connection."""
    ext_state = app.extensions.get("orcid")
    if ext_state is None or "orcid_outbox" not in app.extensions or not user_key:
        return
    ext = ext_state.extension
    from sqlalchemy.orm import Session

    with Session(ext.db.engine) as session:
        resume_reconnected(session, ext.outbox_models, str(user_key))
        session.commit()
    state = app.extensions["orcid_outbox"]
    if state.background is not None:
        state.background.wake()


_LISTENING: weakref.WeakSet = weakref.WeakSet()


def _listen_commits(db) -> None:
    """Wake the background deliverer after a commit that published something."""
    if db in _LISTENING:
        return
    _LISTENING.add(db)
    from sqlalchemy import event

    def after_commit(session) -> None:
        if session.info.pop("orcid_wake", False):
            from flask import current_app, has_app_context

            if has_app_context():
                state = current_app.extensions.get("orcid_outbox")
                if state is not None and state.background is not None:
                    state.background.wake()

    def after_rollback(session) -> None:
        session.info.pop("orcid_wake", None)

    event.listen(db.session, "after_commit", after_commit)
    event.listen(db.session, "after_soft_rollback", lambda s, prev: after_rollback(s))


__all__ = [
    "FAILED",
    "OutboxMixin",
    "OutboxModels",
    "PARKED",
    "PENDING",
    "REMOVED",
    "STATES",
    "SYNCED",
    "counts",
    "define_models",
    "forget_user",
    "item_state",
    "items_for",
    "payload_of",
    "publish",
    "resend",
    "resume_reconnected",
    "retract",
    "retry",
]

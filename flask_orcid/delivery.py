"""The delivery worker: claims due outbox rows and converges them with ORCID.

Claiming never holds a database transaction open during HTTP calls: a short transaction
stamps a lease (owner token + expiry) on up to 100 due rows of one researcher and commits.
On PostgreSQL the candidate rows are picked with ``FOR UPDATE SKIP LOCKED`` so concurrent
workers take different rows without waiting; on SQLite a single conditional ``UPDATE``
does the same (SQLite serializes writers). Every result is written with a conditional
``UPDATE … WHERE lease_owner = <our token>``: a worker whose lease expired cannot overwrite
the row's newer state, and the item it may have created is adopted through ORCID's
duplicate check (409 / 9021) by whoever delivers the row next. A worker that dies leaves
its lease to expire.

The outbox owns retries: the worker's client does not retry internally (by default), and a
transient failure schedules the row again with exponential backoff and jitter, honouring
``Retry-After``, until ``ORCID_MAX_ATTEMPTS``, after which the row is parked.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import outbox as ob
from .converge import AUTH_MESSAGE, BULK_LIMIT, SCOPE_MESSAGE, Convergence, _Row, is_transient
from .outbox import FAILED, PENDING, OutboxModels, utcnow

log = logging.getLogger(__name__)

@dataclass
class Settings:
    """The worker's knobs, read from ``ORCID_*`` configuration."""

    max_attempts: int = 8
    lease_seconds: float = 300.0
    retry_base: float = 30.0
    retry_max: float = 3600.0
    batch_size: int = BULK_LIMIT

    @classmethod
    def from_config(cls, config) -> Settings:
        return cls(
            max_attempts=int(config.get("ORCID_MAX_ATTEMPTS", 8)),
            lease_seconds=float(config.get("ORCID_WORKER_LEASE_SECONDS", 300)),
            retry_base=float(config.get("ORCID_RETRY_BASE_SECONDS", 30)),
            retry_max=float(config.get("ORCID_RETRY_MAX_SECONDS", 3600)),
            batch_size=min(BULK_LIMIT, int(config.get("ORCID_WORKER_BATCH", BULK_LIMIT))),
        )


@dataclass
class PassResult:
    """What one delivery pass did."""

    claimed: int = 0
    synced: int = 0
    failed: int = 0
    parked: int = 0
    removed: int = 0
    requests: int = 0
    records_synced: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: PassResult) -> None:
        for name in ("claimed", "synced", "failed", "parked", "removed", "requests",
                     "records_synced"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)


def backoff_delay(attempts: int, settings: Settings, retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempts + 1``: exponential, capped, with ±50 % jitter."""
    rng = rng or random
    base = min(settings.retry_max, settings.retry_base * (2 ** max(0, attempts - 1)))
    delay = base * rng.uniform(0.5, 1.5)
    if retry_after:
        delay = max(delay, float(retry_after))
    return min(delay, max(settings.retry_max, float(retry_after or 0)))


def make_client(config, rate_limiter=None):
    """An ``ORCIDClient`` for the worker: no internal retries unless configured."""
    from .client import ORCIDClient

    return ORCIDClient(
        config["ORCID_CLIENT_ID"],
        config["ORCID_CLIENT_SECRET"],
        environment=config.get("ORCID_ENVIRONMENT", "production"),
        emulator_url=config.get("ORCID_EMULATOR_URL"),
        timeout=(float(config.get("ORCID_CONNECT_TIMEOUT", 5.0)),
                 float(config.get("ORCID_READ_TIMEOUT", 30.0))),
        rate=float(config.get("ORCID_RATE_LIMIT", 24.0)),
        burst=int(config.get("ORCID_RATE_BURST", 40)),
        max_retries=int(config.get("ORCID_WORKER_MAX_RETRIES", 0)),
        rate_limiter=rate_limiter,
    )


class Deliverer:
    """Delivers the outbox of one Flask app.

    :param app: the Flask app (each worker thread pushes its own app context).
    :param db: the host's Flask-SQLAlchemy instance.
    :param models: the outbox models (:func:`flask_orcid.outbox.define_models`).
    :param concurrency: worker threads; they share one rate limiter.
    :param client_factory: ``(rate_limiter) -> ORCIDClient``; defaults to :func:`make_client`.
    :param progress: called with the running :class:`PassResult` about once a second.
    """

    def __init__(self, app, db, models: OutboxModels, *, concurrency: int = 1,
                 client_factory: Callable[[Any], Any] | None = None, rate_limiter=None,
                 settings: Settings | None = None, owner: str | None = None,
                 progress: Callable[[PassResult], None] | None = None,
                 signals: bool = True) -> None:
        from .ratelimit import RateLimiter

        self.app = app
        self.db = db
        self.models = models
        self.concurrency = max(1, int(concurrency))
        self.settings = settings or Settings.from_config(app.config)
        if rate_limiter is None:
            # Keep a few of ORCID's burst tokens unused: requests that arrive closer together
            # than they left us (network and scheduling jitter) would otherwise find ORCID's
            # bucket empty and get a 503 (API-FACTS §8) even though we kept to the rate.
            burst = int(app.config.get("ORCID_RATE_BURST", 40))
            margin = int(app.config.get("ORCID_WORKER_BURST_MARGIN", 4))
            rate_limiter = RateLimiter(float(app.config.get("ORCID_RATE_LIMIT", 24.0)),
                                       max(1, burst - margin) if burst > 2 * margin else burst)
        self.rate_limiter = rate_limiter
        self.client_factory = client_factory or (lambda rl: make_client(app.config, rl))
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.progress = progress
        self.signals = signals
        self._claims = itertools.count(1)
        self._webhooks_paused_until = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # -- public -------------------------------------------------------------------------------

    def run_once(self) -> PassResult:
        """One pass: pending sync requests, then every due row until none is left."""
        total = PassResult()
        with self.app.app_context():
            with Session(self.db.engine) as session:
                ob.resume_reconnected(session, self.models)
                ob.park_lost_connections(session, self.models)
                days = self.app.config.get("ORCID_EVENT_RETENTION_DAYS")
                if days:
                    ob.prune_events(session, self.models, float(days))
                session.commit()
        from .sync import process_sync_requests

        with self.app.app_context():
            client = self.client_factory(self.rate_limiter)
            try:
                total.records_synced = process_sync_requests(
                    self.app, self.db, self.models, client, owner=self.owner)
                from .webhooks import process_unregistrations

                process_unregistrations(self.db, self.models, client)
                self._register_new_webhooks(client)
            finally:
                total.requests += client.request_count
        threads = [threading.Thread(target=self._work, args=(total,), daemon=True,
                                    name=f"orcid-deliver-{i}")
                   for i in range(self.concurrency)]
        for t in threads:
            t.start()
        last = time.monotonic()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.2)
            if self.progress and time.monotonic() - last >= 1.0:
                last = time.monotonic()
                with self._lock:
                    self.progress(total)
        return total

    def _register_new_webhooks(self, client) -> None:
        """With ``ORCID_WEBHOOK_AUTO_REGISTER``, new connections get their webhook here."""
        config = self.app.config
        if not (config.get("ORCID_WEBHOOK_AUTO_REGISTER") and config.get("ORCID_WEBHOOK_SECRET")):
            return
        if time.monotonic() < self._webhooks_paused_until:
            return
        from . import webhooks
        from .errors import ORCIDError

        orcids = webhooks.unregistered_connections(self.db, self.models)
        if not orcids:
            return
        try:
            results = webhooks.register(self.app, self.db, self.models, client, orcids)
        except ORCIDError as exc:  # not a premium member, no address configured...
            log.warning("webhooks could not be registered (%s); trying again in an hour",
                        exc)
            self._webhooks_paused_until = time.monotonic() + 3600
            return
        if any(not r.ok for r in results):
            self._webhooks_paused_until = time.monotonic() + 300

    def run_forever(self, interval: float = 5.0, stop: threading.Event | None = None,
                    wake: threading.Event | None = None) -> None:
        """Passes every ``interval`` seconds (sooner when ``wake`` is set) until ``stop``."""
        stop = stop or self._stop
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep the loop alive; the next pass retries
                log.exception("ORCID delivery pass failed")
            if wake is not None:
                wake.wait(interval)
                wake.clear()
            else:
                stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()

    # -- one thread ---------------------------------------------------------------------------

    def _work(self, total: PassResult) -> None:
        with self.app.app_context():
            client = self.client_factory(self.rate_limiter)
            try:
                with Session(self.db.engine, expire_on_commit=False) as session:
                    while not self._stop.is_set():
                        token = f"{self.owner}#{next(self._claims)}"
                        try:
                            rows, user_key = self.claim(session, token)
                        except Exception as exc:  # the database is unavailable: end this pass
                            session.rollback()
                            log.exception("claiming outbox rows failed")
                            with self._lock:
                                total.errors.append(repr(exc))
                            break
                        if not rows:
                            break
                        result = PassResult(claimed=len(rows))
                        try:
                            self.converge(session, client, token, user_key, rows, result)
                        except Exception as exc:  # never lose the rows: give them back
                            session.rollback()
                            log.exception("delivery of %d rows for one record failed", len(rows))
                            result.errors.append(repr(exc))
                            try:
                                self._release(session, token)
                            except Exception:  # the lease lapses by itself
                                session.rollback()
                                log.exception("could not release outbox rows")
                        with self._lock:
                            total.add(result)
            finally:
                with self._lock:
                    total.requests += client.request_count

    # -- claiming -----------------------------------------------------------------------------

    def _due(self, now):
        Item, Account = self.models.Item, self.models.Account
        active = sa.select(Account.user_key).where(Account.status == "active")
        return sa.and_(
            Item.state.in_((PENDING, FAILED)),
            sa.or_(Item.next_attempt_at.is_(None), Item.next_attempt_at <= now),
            sa.or_(Item.lease_expires_at.is_(None), Item.lease_expires_at < now),
            Item.user_key.in_(active),
        )

    def claim(self, session: Session, token: str) -> tuple[list[_Row], str | None]:
        """Lease up to ``batch_size`` due rows of one researcher; commits at once."""
        Item = self.models.Item
        now = utcnow()
        expires = now + timedelta(seconds=self.settings.lease_seconds)
        due = self._due(now)
        limit = self.settings.batch_size
        if session.get_bind().dialect.name == "postgresql":
            first = session.execute(
                sa.select(Item.user_key).where(due).order_by(Item.id).limit(1)
                .with_for_update(skip_locked=True, of=Item)
            ).first()
            if first is None:
                session.rollback()
                return [], None
            ids = session.scalars(
                sa.select(Item.id).where(due, Item.user_key == first[0]).order_by(Item.id)
                .limit(limit).with_for_update(skip_locked=True, of=Item)
            ).all()
            target = Item.id.in_(ids)
        else:
            # One statement: SQLite evaluates it under its write lock, so two workers can
            # never lease the same row.
            first_user = (sa.select(Item.user_key).where(due).order_by(Item.id).limit(1)
                          .scalar_subquery())
            target = Item.id.in_(
                sa.select(Item.id).where(due, Item.user_key == first_user).order_by(Item.id)
                .limit(limit)
            )
        session.execute(
            sa.update(Item).where(target, due).values(
                lease_owner=token, lease_expires_at=expires, last_attempt_at=now),
            execution_options={"synchronize_session": False},
        )
        session.commit()
        rows = session.execute(
            sa.select(Item.id, Item.user_key, Item.kind, Item.key, Item.payload,
                      Item.payload_hash, Item.retracted, Item.put_code, Item.written_hash,
                      Item.attempts, Item.orcid)
            .where(Item.lease_owner == token).order_by(Item.id)
        ).all()
        session.commit()
        if not rows:
            return [], None
        return [
            _Row(id=r.id, kind=r.kind, key=r.key, payload=r.payload,
                 payload_hash=r.payload_hash, retracted=bool(r.retracted),
                 put_code=r.put_code, written_hash=r.written_hash, attempts=r.attempts or 0)
            for r in rows
        ], rows[0].user_key

    def _release(self, session: Session, token: str) -> None:
        Item = self.models.Item
        session.execute(
            sa.update(Item).where(Item.lease_owner == token)
            .values(lease_owner=None, lease_expires_at=None),
            execution_options={"synchronize_session": False},
        )
        session.commit()

    # -- converging ---------------------------------------------------------------------------

    def converge(self, session: Session, client, token: str, user_key: str,
                 rows: list[_Row], result: PassResult) -> None:
        """Bring ``rows`` (one researcher's) to their desired state on ORCID."""
        Account = self.models.Account
        account = session.scalars(
            sa.select(Account).where(Account.user_key == user_key)
        ).first()
        if account is None or account.status != "active":
            self._release(session, token)
            return
        run = Convergence(self, session, client, token, user_key, account, result)
        run.execute(rows)


# -- the in-process background deliverer ------------------------------------------------------

class BackgroundDelivery:
    """A daemon thread running delivery passes for small sites and the demo.

    Started by the extension when ``ORCID_DELIVERY = "thread"``; woken early by ``wake()``
    (the extension calls it after a commit that published something).
    """

    def __init__(self, deliverer: Deliverer, interval: float = 5.0,
                 after_pass: Callable[[], None] | None = None) -> None:
        self.deliverer = deliverer
        self.interval = interval
        self.after_pass = after_pass
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="orcid-background-delivery",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliverer.run_once()
                if self.after_pass is not None:
                    self.after_pass()
            except Exception:
                log.exception("background ORCID delivery pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.deliverer.stop()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None


__all__ = [
    "AUTH_MESSAGE",
    "BULK_LIMIT",
    "SCOPE_MESSAGE",
    "BackgroundDelivery",
    "Deliverer",
    "PassResult",
    "Settings",
    "backoff_delay",
    "is_transient",
    "make_client",
]

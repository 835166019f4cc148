"""The delivery worker: runs passes that claim due outbox rows and converge them with ORCID.

The outbox owns retries: the worker's client does not retry internally (by default), and a
transient failure schedules the row again with exponential backoff and jitter, honouring
``Retry-After``, up to ``ORCID_RETRY_MAX_SECONDS``; it never parks the row. While ORCID is
down the circuit breaker (:mod:`.breaker`) pauses the whole worker. Every pass records a
heartbeat (:mod:`.heartbeat`) for ``flask orcid status``. A pass also
reconciles the records whose webhook fired, removes webhooks of disconnected records and (with
``ORCID_WEBHOOK_AUTO_REGISTER``) registers webhooks for new connections.

The worker needs the host application only as a ``host`` object with ``config`` and
``app_context()`` (each worker thread pushes its own context: the token cipher is per app).
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import ORCIDError
from ..protocol.client import ORCIDClient
from ..protocol.ratelimit import Limiter
from . import outbox, webhooks
from .breaker import CircuitBreaker
from .budget import budget_from_config
from .claim import claim, release, release_with_backoff
from .clients import client_from_config
from .connections import park_lost_connections
from .converge import Convergence
from .heartbeat import Heartbeat
from .models import Models
from .policy import Settings
from .reconcile import process_sync_requests
from .results import PassResult, Row, RunContext
from .sql import in_memory_sqlite
from .states import ACTIVE

__all__ = ["BackgroundDelivery", "Deliverer", "Host", "PassResult", "Settings"]

log = logging.getLogger(__name__)


class Host(Protocol):
    """What the worker needs of the host application (a Flask app fits)."""

    @property
    def config(self) -> Mapping[str, Any]: ...

    def app_context(self) -> AbstractContextManager[Any]: ...


class Deliverer:
    """Delivers the outbox of one host application.

    :param host: the Flask app (each worker thread pushes its own app context).
    :param db: the host's Flask-SQLAlchemy instance.
    :param models: the ``orcid_*`` models (:func:`flask_orcid.sync.models.define_models`).
    :param concurrency: worker threads, i.e. calls to ORCID in flight at once (default
        ``ORCID_WORKER_CONCURRENCY``).
    :param client_factory: ``(rate_limiter) -> ORCIDClient``; defaults to the worker's client.
    :param rate_limiter: the rate budget; by default the one ``ORCID_RATE_BUDGET`` names, which
        every process and host using the client id shares (:mod:`.budget`).
    :param progress: called with the running :class:`PassResult` about once a second.
    :param webhook_url: ``(orcid) -> callback URL``, for registering webhooks of new connections.
    """

    def __init__(self, host: Host, db: Any, models: Models, *, concurrency: int | None = None,
                 client_factory: Callable[[Limiter], ORCIDClient] | None = None,
                 rate_limiter: Limiter | None = None, settings: Settings | None = None,
                 owner: str | None = None, progress: Callable[[PassResult], None] | None = None,
                 signals: bool = True, webhook_url: Callable[[str], str] | None = None) -> None:
        config = host.config
        self.app = host
        self.db = db
        self.models = models
        if concurrency is None:
            concurrency = int(config.get("ORCID_WORKER_CONCURRENCY", 8))
        self.concurrency = max(1, int(concurrency))
        self.settings = settings or Settings.from_config(config)
        with host.app_context():
            engine = db.engine
            if rate_limiter is None:
                rate_limiter = budget_from_config(config, engine, db.metadata)
        if self.concurrency > 1 and in_memory_sqlite(engine):
            # its one connection would be used by several threads at once
            log.info("an in-memory SQLite database has one connection: delivering with one "
                     "thread instead of %d", self.concurrency)
            self.concurrency = 1
        self.rate_limiter = rate_limiter
        self.client_factory = client_factory or (
            lambda rl: client_from_config(config, worker=True, rate_limiter=rl))
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.progress = progress
        self.webhook_url = webhook_url
        self.heartbeat = Heartbeat(lambda: self.db.engine, models, self.owner)
        self.breaker = breaker_for(self.settings, self.heartbeat)
        self.ctx = RunContext(models=models, settings=self.settings, owner=self.owner,
                              client_id=str(config.get("ORCID_CLIENT_ID") or ""),
                              sender=host, signals=signals, breaker=self.breaker)
        self._claims = itertools.count(1)
        self._webhooks_paused_until = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # -- public -------------------------------------------------------------------------------

    def run_once(self) -> PassResult:
        """One pass: housekeeping, pending sync requests, then every due row until none is left."""
        total = PassResult()
        with self.app.app_context():
            self.heartbeat.pass_started()
            self._housekeeping()
            if not self.breaker.is_open():
                self._records(total)
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
        with self.app.app_context():
            self.heartbeat.pass_ended(total.errors)
        return total

    def _records(self, total: PassResult) -> None:
        """Webhook sync requests, webhook removals and registrations."""
        client = self.client_factory(self.rate_limiter)
        try:
            total.records_synced = process_sync_requests(
                self.app, self.db, self.models, client, breaker=self.breaker)
            webhooks.process_unregistrations(self.db, self.models, client)
            self._register_new_webhooks(client)
        finally:
            total.requests += client.request_count

    def run_guarded(self) -> PassResult | None:
        """``run_once`` that never raises: a pass that dies (the database went away, say) is
        logged and recorded in the heartbeat; the next pass tries again. None then."""
        try:
            return self.run_once()
        except Exception as exc:
            log.exception("ORCID delivery pass failed")
            with self.app.app_context():
                self.heartbeat.failed(f"{type(exc).__name__}: {exc}")
            return None

    def _housekeeping(self) -> None:
        """Resume rows of renewed connections, park those of lost ones, prune old events."""
        with Session(self.db.engine) as session:
            outbox.resume_reconnected(session, self.models)
            park_lost_connections(session, self.models)
            days = self.app.config.get("ORCID_EVENT_RETENTION_DAYS")
            if days:
                outbox.prune_events(session, self.models, float(days))
            session.commit()

    def _register_new_webhooks(self, client: ORCIDClient) -> None:
        """With ``ORCID_WEBHOOK_AUTO_REGISTER``, new connections get their webhook here."""
        config = self.app.config
        if not (config.get("ORCID_WEBHOOK_AUTO_REGISTER") and config.get("ORCID_WEBHOOK_SECRET")
                and self.webhook_url is not None):
            return
        if time.monotonic() < self._webhooks_paused_until:
            return
        orcids = webhooks.unregistered_connections(self.db, self.models)
        if not orcids:
            return
        try:
            results = webhooks.register(self.db, self.models, client, self.webhook_url, orcids)
        except ORCIDError as exc:  # not a premium member, no address configured...
            log.warning("webhooks could not be registered (%s); trying again in an hour", exc)
            self._webhooks_paused_until = time.monotonic() + 3600
            return
        if any(not r.ok for r in results):
            self._webhooks_paused_until = time.monotonic() + 300

    def run_forever(self, interval: float = 5.0, stop: threading.Event | None = None,
                    wake: threading.Event | None = None) -> None:
        """Passes every ``interval`` seconds (sooner when ``wake`` is set) until ``stop``."""
        stop = stop or self._stop
        while not stop.is_set():
            self.run_guarded()  # keeps the loop alive; the next pass retries
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
                    more = True
                    while more and not self._stop.is_set():
                        result, more = self._one_claim(session, client)
                        with self._lock:
                            total.add(result)
            finally:
                with self._lock:
                    total.requests += client.request_count

    def _one_claim(self, session: Session, client: ORCIDClient) -> tuple[PassResult, bool]:
        """Claim one researcher's batch and converge it. Returns what it did, and False when
        nothing is left (or the database cannot be reached: this pass ends, the next one
        tries again)."""
        if self.breaker.is_open():  # ORCID is down: this pass ends, the rows wait
            return PassResult(), False
        token = f"{self.owner}#{next(self._claims)}"
        try:
            rows, user_key = self.claim(session, token)
        except Exception as exc:
            session.rollback()
            log.exception("claiming outbox rows failed")
            return PassResult(errors=[repr(exc)]), False
        if not rows or user_key is None:
            return PassResult(), False
        result = PassResult(claimed=len(rows))
        try:
            self.converge(session, client, token, user_key, rows, result)
        except Exception as exc:  # never lose the rows: give them back, after a backoff
            session.rollback()
            log.exception("delivery of %d rows for one record failed", len(rows))
            result.errors.append(repr(exc))
            try:
                result.failed += release_with_backoff(session, self.models, token, rows,
                                                      self.settings, exc)
            except Exception:  # the lease lapses by itself
                session.rollback()
                log.exception("could not release outbox rows")
        return result, True

    def claim(self, session: Session, token: str) -> tuple[list[Row], str | None]:
        """Lease up to ``batch_size`` due rows of one researcher; commits at once."""
        return claim(session, self.models, token, limit=self.settings.batch_size,
                     lease_seconds=self.settings.lease_seconds)

    def converge(self, session: Session, client: ORCIDClient, token: str, user_key: str,
                 rows: list[Row], result: PassResult) -> None:
        """Bring ``rows`` (one researcher's) to their desired state on ORCID."""
        Account = self.models.Account
        account = session.scalars(sa.select(Account).where(Account.user_key == user_key)).first()
        if account is None or account.status != ACTIVE:
            release(session, self.models, token)
            return
        Convergence(self.ctx, session, client, token, account, result).execute(rows)


def breaker_for(settings: Settings, heartbeat: Heartbeat) -> CircuitBreaker:
    """The worker's circuit breaker; its openings and closings go to the heartbeat."""
    return CircuitBreaker(settings.breaker_threshold, settings.breaker_base,
                          settings.breaker_max, on_change=heartbeat.paused)


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
                self.deliverer.run_guarded()
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

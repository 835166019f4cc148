"""Worker heartbeats: when each delivery worker last ran, failed or paused (for ``status``).

Every pass records its start and end in ``orcid_worker_heartbeats`` (one row per worker
process). Writing a heartbeat never breaks a pass: when the database cannot be reached the
error is kept in memory and written with the next heartbeat that gets through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .clock import utcnow
from .models import Models
from .sql import rowcount

__all__ = ["Heartbeat", "WorkerStatus", "worker_statuses"]

log = logging.getLogger(__name__)

#: heartbeats of workers silent for longer than this are deleted
KEEP = timedelta(days=7)


class Heartbeat:
    """The heartbeat of one worker process (``owner``)."""

    def __init__(self, engine: Callable[[], Any], models: Models, owner: str) -> None:
        self.engine = engine
        self.models = models
        self.owner = owner[:64]
        self._unwritten: dict[str, Any] = {}
        self._pruned = False

    def pass_started(self) -> None:
        self._write({"pass_started_at": utcnow()})

    def pass_ended(self, errors: list[str]) -> None:
        now = utcnow()
        values: dict[str, Any] = {"pass_ended_at": now}
        if errors:
            values.update(last_error=errors[-1][:2000], last_error_at=now)
        else:
            values["ok_at"] = now
        self._write(values)

    def failed(self, error: str) -> None:
        """A pass died with ``error`` (the database, most likely)."""
        self._write({"last_error": error[:2000], "last_error_at": utcnow(),
                     "pass_ended_at": utcnow()})

    def paused(self, until: float | None, reason: str | None) -> None:
        """The circuit breaker opened (``until``: epoch seconds) or closed (None)."""
        when = (datetime.fromtimestamp(until, UTC).replace(tzinfo=None)
                if until is not None else None)
        self._write({"paused_until": when, "pause_reason": reason})

    def _write(self, values: dict[str, Any]) -> None:
        values = {**self._unwritten, **values}
        table = self.models.WorkerHeartbeat.__table__
        try:
            with Session(self.engine()) as session:
                now = utcnow()
                res = session.execute(table.update().where(table.c.worker == self.owner)
                                      .values(updated_at=now, **values))
                if not rowcount(res):
                    session.execute(table.insert().values(worker=self.owner, started_at=now,
                                                          updated_at=now, **values))
                if not self._pruned:
                    session.execute(table.delete().where(table.c.updated_at < now - KEEP))
                    self._pruned = True
                session.commit()
        except Exception as exc:  # the database is down: keep it for the next heartbeat
            log.warning("could not record the worker's heartbeat: %r", exc)
            self._unwritten = {k: v for k, v in values.items()
                               if k in ("last_error", "last_error_at", "pass_ended_at")}
            return
        self._unwritten = {}


@dataclass
class WorkerStatus:
    """What ``flask orcid status`` says about one worker."""

    worker: str
    last_pass: datetime | None
    ok_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    paused_until: datetime | None
    pause_reason: str | None

    @property
    def failing(self) -> bool:
        """Its newest pass met an error (none has succeeded since)."""
        return self.last_error_at is not None and (
            self.ok_at is None or self.ok_at < self.last_error_at)

    def paused(self, now: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > now


def worker_statuses(session: Session, models: Models, *,
                    since: timedelta = timedelta(days=1)) -> list[WorkerStatus]:
    """Workers seen within ``since``, most recent first."""
    model = models.WorkerHeartbeat
    rows = session.scalars(
        sa.select(model).where(model.updated_at >= utcnow() - since)
        .order_by(model.updated_at.desc()).limit(20)
    ).all()
    return [WorkerStatus(worker=r.worker, last_pass=r.pass_started_at, ok_at=r.ok_at,
                         last_error=r.last_error, last_error_at=r.last_error_at,
                         paused_until=r.paused_until, pause_reason=r.pause_reason)
            for r in rows]

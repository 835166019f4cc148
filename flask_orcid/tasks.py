"""Delivery as Celery tasks, for hosts that already run Celery (``ORCID_DELIVERY = "celery"``).

The outbox stays the source of truth: a task only runs a delivery pass, the same pass as
``flask orcid deliver``, which claims due rows under a lease. Tasks that run twice, overlap on
several Celery workers, are lost with a broker, or never run at all cost nothing but time: the
periodic task finds whatever is still due.

- ``flask_orcid.deliver``: one pass (then the revocations ORCID could not do at the time);
  scheduled every ``ORCID_DELIVERY_INTERVAL`` seconds through Celery beat;
- a wake-up after a commit that published something sends the same task (at most one every
  ``ORCID_CELERY_WAKE_SECONDS`` per process, with that countdown, so a burst of deposits makes
  one pass that sees them all). A broker that cannot be reached never fails the deposit.

Usage, in the module your Celery worker loads::

    celery = Celery("repository", broker="redis://127.0.0.1:6379/0")
    app = create_app()                      # ORCID_DELIVERY = "celery"
    flask_orcid.tasks.init_celery(celery, app)

and run ``celery -A that.module worker -B`` (or a separate ``celery beat``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Celery
from flask import Flask

from .delivery import deliverer_for
from .state import get_state
from .sync.worker import Deliverer, PassResult

__all__ = ["TASK_NAME", "init_celery"]

log = logging.getLogger(__name__)

#: The name of the delivery task (and of its beat schedule entry).
TASK_NAME = "flask_orcid.deliver"


class _Pass:
    """One process's delivery pass for one app: a Deliverer made once, one pass at a time."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._deliverer: Deliverer | None = None
        self._running = threading.Lock()

    def __call__(self) -> dict[str, Any]:
        if not self._running.acquire(blocking=False):
            return {"skipped": "a pass is already running in this process"}
        try:
            with self.app.app_context():
                if self._deliverer is None:
                    self._deliverer = deliverer_for(self.app)
                result: PassResult = self._deliverer.run_once()
                get_state(self.app).extension.retry_pending_revocations(limit=50)
            return {"claimed": result.claimed, "synced": result.synced,
                    "failed": result.failed, "parked": result.parked,
                    "requests": result.requests, "errors": len(result.errors)}
        finally:
            self._running.release()


class _Waker:
    """Sends the delivery task after a commit that published something.

    The commit only sets an event; a daemon thread sends the task (at most one every
    ``window`` seconds, with that countdown, so every commit of the window is seen by the pass).
    A slow or unreachable broker never holds up the deposit request.
    """

    def __init__(self, task: Any, window: float) -> None:
        self.task = task
        self.window = window
        self._due = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __call__(self) -> None:
        self._due.set()
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._send_loop, daemon=True,
                                                    name="orcid-celery-wake")
                    self._thread.start()

    def _send_loop(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            try:
                self.task.apply_async(countdown=self.window, retry=False)
            except Exception:  # the periodic task delivers it anyway
                log.warning("could not send the ORCID delivery task to the Celery broker; the "
                            "periodic task will deliver the item", exc_info=True)
            time.sleep(self.window)  # commits meanwhile are seen by the task just sent


def init_celery(celery: Celery, app: Flask, *, interval: float | None = None,
                wake_window: float | None = None) -> Any:
    """Register delivery for ``app`` as Celery tasks of ``celery``; returns the task.

    Adds the task, its beat schedule (every ``interval`` seconds, by default
    ``ORCID_DELIVERY_INTERVAL``) and, when ``ORCID_DELIVERY`` is ``"celery"``, the wake-up after
    commits that published something.
    """
    config = app.config
    every = float(interval if interval is not None else config.get("ORCID_DELIVERY_INTERVAL", 5.0))
    window = float(wake_window if wake_window is not None
                   else config.get("ORCID_CELERY_WAKE_SECONDS", 0.5))
    one_pass = _Pass(app)

    def deliver() -> dict[str, Any]:
        """One ORCID delivery pass over the outbox."""
        return one_pass()

    task = celery.task(name=TASK_NAME, ignore_result=True, shared=False)(deliver)
    schedule = dict(celery.conf.beat_schedule or {})
    schedule[TASK_NAME] = {"task": TASK_NAME, "schedule": every}
    celery.conf.beat_schedule = schedule
    if config.get("ORCID_DELIVERY") == "celery":
        get_state(app).waker = _Waker(task, window)
    return task

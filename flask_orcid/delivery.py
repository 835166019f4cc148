"""Delivery inside the web application: the opt-in background thread, the wake-up after a commit
that published something, and resuming parked rows when a researcher reconnects.

The worker itself is :mod:`flask_orcid.sync.worker`; this module only connects it to Flask.
"""

from __future__ import annotations

import weakref
from functools import partial
from typing import Any

from flask import Flask, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import signals
from .errors import ConfigurationError
from .pages import callback_url
from .state import current_flask_app, get_state
from .sync.outbox import resume_reconnected
from .sync.worker import BackgroundDelivery, Deliverer

__all__ = ["check_mode", "deliverer_for", "listen_commits", "on_connected", "start", "stop",
           "wake"]

#: Session flag: something was published in this transaction; wake the worker after commit.
WAKE = "orcid_wake"
#: Session list: signals to send once this transaction commits, as (signal, sender, kwargs).
NOTIFY = "orcid_notify"


def check_mode(app: Flask) -> None:
    """Refuse an ``ORCID_DELIVERY`` the extension does not know."""
    mode = app.config.get("ORCID_DELIVERY", "off")
    if mode not in ("off", "thread", "celery"):
        raise ConfigurationError(
            f"ORCID_DELIVERY is {mode!r}; set it to 'off' (run `flask orcid deliver`), "
            "'thread' (deliver in a background thread of the web process) or 'celery' "
            "(deliver as Celery tasks: flask_orcid.tasks.init_celery)."
        )


def deliverer_for(app: Flask, **kwargs: Any) -> Deliverer:
    """A :class:`~flask_orcid.sync.worker.Deliverer` for ``app``'s outbox."""
    ext = get_state(app).extension
    kwargs.setdefault("webhook_url", partial(callback_url, app))
    return Deliverer(app, ext.db, ext.models, **kwargs)


def start(app: Flask, interval: float | None = None) -> BackgroundDelivery:
    """Start the in-process background deliverer for ``app`` (idempotent)."""
    state = get_state(app)
    with state.lock:
        if state.background is None:
            ext = state.extension

            def revocations() -> None:
                # tokens ORCID could not revoke at disconnect time get another try
                with app.app_context():
                    ext.retry_pending_revocations(limit=50)

            state.background = BackgroundDelivery(
                deliverer_for(app),
                float(interval or app.config.get("ORCID_DELIVERY_INTERVAL", 5.0)),
                after_pass=revocations)
        background: BackgroundDelivery = state.background
        background.start()
    return background


def stop(app: Flask) -> None:
    """Stop ``app``'s background deliverer, if any."""
    state = get_state(app)
    with state.lock:
        if state.background is not None:
            state.background.stop()
            state.background = None


def wake(app: Flask | None = None) -> None:
    """Ask the background deliverer (if running) for a pass now."""
    if app is None:
        if not has_app_context():
            return
        app = current_flask_app()
    state = app.extensions.get("orcid")
    if state is not None and state.background is not None:
        state.background.wake()
    if state is not None and state.waker is not None:
        state.waker()


def on_connected(app: Flask, account: Any = None, user_key: str | None = None,
                 **extra: Any) -> None:
    """``orcid_connected`` receiver: a (re)connection resumes the rows parked for it (the
    connection's sync request, stored with it, makes the pass read the record first)."""
    state = app.extensions.get("orcid")
    if state is None or not user_key:
        return
    ext = state.extension
    with Session(ext.db.engine) as session:
        resume_reconnected(session, ext.models, str(user_key))
        session.commit()
    wake(app)


_LISTENING: weakref.WeakSet[Any] = weakref.WeakSet()


def listen_commits(db: Any) -> None:
    """Wake the background deliverer after a commit that published something (once per db)."""
    if db in _LISTENING:
        return
    _LISTENING.add(db)

    def after_commit(session: Any) -> None:
        for signal, sender, kwargs in session.info.pop(NOTIFY, ()):
            signals.notify(signal, sender, **kwargs)
        if session.info.pop(WAKE, False):
            wake()

    def after_soft_rollback(session: Any, previous_transaction: Any) -> None:
        session.info.pop(WAKE, None)
        session.info.pop(NOTIFY, None)

    event.listen(db.session, "after_commit", after_commit)
    event.listen(db.session, "after_soft_rollback", after_soft_rollback)

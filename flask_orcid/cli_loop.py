"""What the ``--loop`` commands share (``flask orcid deliver --loop``, ``flask orcid campaign
run --loop``): a step that fails is logged and the loop goes on, and the session of the
command's app context is given back after each step, even when the server ended its
connection meanwhile (a database restart, a failover, an idle timeout)."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["end_session"]

log = logging.getLogger(__name__)


def end_session(db: Any) -> None:
    """Give back the loop's session (``db`` is the host's Flask-SQLAlchemy object). Closing
    rolls back, which fails on a connection the server ended: the connection is then thrown
    away, and the next step opens a new one. Never raises."""
    try:
        db.session.remove()
    except Exception:
        log.warning("the database connection was lost; the next step opens a new one",
                    exc_info=True)
        try:
            db.session().invalidate()  # no rollback: the connection is thrown away
            db.session.remove()
        except Exception:
            log.exception("could not discard the lost database connection")

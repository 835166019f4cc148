"""Small SQL helpers shared by the engine's modules."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

__all__ = ["any_row", "in_memory_sqlite", "rowcount"]


def rowcount(result: sa.Result[Any]) -> int:
    """How many rows a bulk ``UPDATE`` or ``DELETE`` matched (0 when the driver cannot say).

    ``Session.execute`` is typed as returning a plain ``Result``; for these statements it is a
    ``CursorResult``, which has the count.
    """
    return cast("sa.CursorResult[Any]", result).rowcount or 0


def any_row(session: Any, *where: Any) -> bool:
    """Whether any row matches ``where``: read before a sweep that usually has
    nothing to do. An ``UPDATE`` or ``DELETE`` takes SQLite's one write lock even when it
    matches nothing, so worker processes starting their passes together would queue for it
    (and SQLite's busy handler waits in growing steps); a read does not. The sweep's own
    statement re-checks ``where``, so a row that qualifies just after the read is simply left
    to the next pass."""
    return bool(session.execute(sa.select(sa.exists().where(*where))).scalar())


def in_memory_sqlite(engine: sa.Engine) -> bool:
    """An in-memory SQLite database: one connection, shared by every thread that uses it
    (Python's sqlite3 objects are not safe to use from two threads at once)."""
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")

"""The one clock of the synchronization engine: naive UTC, the only datetime flavour stored."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """Naive UTC now: SQLite keeps no time zone, so every stored timestamp is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)

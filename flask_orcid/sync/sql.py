"""Small SQL helpers shared by the engine's modules."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

__all__ = ["rowcount"]


def rowcount(result: sa.Result[Any]) -> int:
    """How many rows a bulk ``UPDATE`` or ``DELETE`` matched (0 when the driver cannot say).

    ``Session.execute`` is typed as returning a plain ``Result``; for these statements it is a
    ``CursorResult``, which has the count.
    """
    return cast("sa.CursorResult[Any]", result).rowcount or 0

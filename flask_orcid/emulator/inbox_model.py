"""A permission notification in a researcher's ORCID inbox (notification-permission-3.0)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Notification"]


@dataclass
class Notification:
    """One ``permission`` notification as ORCID stores it (NotificationAddItemsEntity)."""

    put_code: int
    orcid: str
    client_id: str
    source_name: str
    #: the full authorization URL ORCID keeps (a path alone gets ORCID's base prepended)
    authorization_uri: str
    subject: str | None
    intro: str | None
    #: [{"item_type", "item_name", "external_id": {type, value, url, relationship} | None}]
    items: list[dict[str, Any]] = field(default_factory=list)
    created: float = 0.0
    sent: float | None = None
    read: float | None = None
    actioned: float | None = None
    archived: float | None = None

"""The outbox API mixed into :class:`~flask_orcid.ORCID`: what the host says should be on a
researcher's record (publish, retract, resend) and the researcher's decisions before the first
delivery (approve, decline). Each call only writes in the host's transaction; the rows and
their rules live in :mod:`.sync.outbox` and :mod:`.sync.approval`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

from . import delivery, signals
from .state import current_flask_app
from .sync import approval
from .sync import outbox as ob
from .sync.models import Models

__all__ = ["OutboxAPI"]


class OutboxAPI:
    """Publishing and the researcher's decisions (part of :class:`~flask_orcid.ORCID`)."""

    db: Any

    def _models(self) -> Models:  # pragma: no cover - ORCID defines it
        raise NotImplementedError

    def publish(self, user_key: str, key: str, item: Any, *, approved: bool = False) -> None:
        """Record that ``item`` belongs on ``user_key``'s record (committed by the caller).

        With ``ORCID_APPROVAL = "required"`` a new item waits for the researcher's approval;
        ``approved=True`` says they already consented on your own page. An item the researcher
        declined stays declined whatever you publish (only :meth:`approve` lifts it).
        """
        ob.publish(self.db.session, self._models(), str(user_key), key, item,
                   approval=current_app.config["ORCID_APPROVAL"], approved=approved)
        self.db.session.info[delivery.WAKE] = True

    @property
    def approval_required(self) -> bool:
        """Whether items wait for the researcher's approval (``ORCID_APPROVAL``)."""
        return bool(current_app.config["ORCID_APPROVAL"] == approval.APPROVAL_REQUIRED)

    def approve(self, user_key: str, kind: str, key: str) -> approval.Decision:
        """The researcher agrees that the item goes to their record (commit afterwards;
        ``item_approved`` is sent after the commit). See :class:`~flask_orcid.sync.approval.
        Decision` for what the answer means."""
        return self._decide(approval.approve, signals.item_approved, user_key, kind, key)

    def decline(self, user_key: str, kind: str, key: str) -> approval.Decision:
        """The researcher does not want the item on their record: it is never sent until they
        approve it, whatever new versions you publish (commit afterwards; ``item_declined``
        is sent after the commit). Only before the first delivery: an item on the record
        already is removed at ORCID by the researcher, or retracted by the site."""
        return self._decide(approval.decline, signals.item_declined, user_key, kind, key)

    def _decide(self, decide: Callable[..., approval.Decision], signal: Any, user_key: str,
                kind: str, key: str) -> approval.Decision:
        session = self.db.session
        answer = decide(session, self._models(), str(user_key), kind, key)
        if answer is approval.Decision.DONE:
            session.info.setdefault(delivery.NOTIFY, []).append(
                (signal, current_flask_app(), {"user_key": str(user_key), "key": key,
                                               "kind": kind}))
            session.info[delivery.WAKE] = True
        return answer

    def pending_approval(self, user_key: str) -> list[Any]:
        """The researcher's items waiting for their approval (oldest first)."""
        return approval.pending_approval(self.db.session, self._models(), str(user_key))

    def undelivered_items(self, user_key: str) -> list[Any]:
        """The researcher's items not on their record yet that they may still decide on:
        waiting for approval, declined, or on their way."""
        return approval.undelivered(self.db.session, self._models(), str(user_key))

    def retract(self, user_key: str, key: str) -> None:
        """Record that the item under ``key`` should leave the record (committed by the caller)."""
        ob.retract(self.db.session, self._models(), str(user_key), key)
        self.db.session.info[delivery.WAKE] = True

    def items_for(self, user_key: str) -> list[Any]:
        """What the site wrote or will write to ``user_key``'s record."""
        return ob.items_for(self.db.session, self._models(), str(user_key))

    def item_state(self, user_key: str, key: str) -> Any:
        """The outbox row for ``key``, or None."""
        return ob.item_state(self.db.session, self._models(), str(user_key), key)

    def resend(self, user_key: str, key: str) -> bool:
        """Post again an item the researcher removed (commit afterwards)."""
        done = ob.resend(self.db.session, self._models(), str(user_key), key)
        if done:
            self.db.session.info[delivery.WAKE] = True
        return done

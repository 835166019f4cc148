"""Every ``orcid_*`` table, defined on the host's Flask-SQLAlchemy ``db``.

Tables are prefixed ``orcid_`` and defined on the host's metadata, so Alembic autogenerate sees
them. :class:`Models` holds the classes :func:`define_models` made for one ``db``. What the
rows do is in :mod:`.mixins`; the states they can be in, in :mod:`.states`.

- ``orcid_accounts``: a user's ORCID connection; tokens stored encrypted (see :mod:`.crypto`),
  exposed in plaintext only through properties, never in ``repr``.
- ``orcid_pending_revocations``: every token we gave up (disconnect, reconnect, a refused
  sign-in) until ORCID confirms the revocation, so no token is left live and forgotten.
- ``orcid_outbox_items``: one row per (user key, kind, key): the desired payload and its hash,
  the put-code ORCID gave us, the hash of what we last wrote, a state and the last error, and
  the researcher's decision before the first delivery (approved / declined).
- ``orcid_outbox_events``: every attempt (operation, HTTP status, ORCID code; never a token).
- ``orcid_record_sync``: per record, the webhook registration and pending sync requests.
- ``orcid_worker_heartbeats``: per delivery worker process, when its last pass ran, its last
  error and whether it is paused because ORCID is down (``flask orcid status`` shows them).
- ``orcid_oauth_states``: every OAuth ``state`` issued, by hash, until it is spent: a state is
  consumed once, atomically, whatever the browser's cookie says (see :mod:`.oauth_states`).
- ``orcid_invitations``: a person asked by email to authenticate their iD for something of the
  host's (a thesis): the single-use link's token by hash, its expiry and status, the iD they
  authenticated (see :mod:`.invitations`).
- ``orcid_campaigns``, ``orcid_campaign_people``: backfill campaigns for past graduates and
  where each person is (see :mod:`.campaign_models`, :mod:`.campaigns`).
- ``orcid_permission_requests``: every permission request sent to a researcher's ORCID inbox
  (see :mod:`.permission_requests`): to whom, why, its put-code at ORCID, the hash of the
  link's single-use token, and what came of it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .budget import budget_table
from .campaign_models import campaign_model, campaign_person_model
from .clock import utcnow
from .crypto import TokenCipher
from .mixins import (
    AccountMixin,
    OutboxItemMixin,
    PendingRevocationMixin,
    item_from_payload,
)
from .states import (
    ACTIVE,
    APPROVED,
    AWAITING,
    DECLINED,
    FAILED,
    INVALID,
    INVITATION_SENT,
    PARK_AUTH,
    PARK_CONFLICT,
    PARK_DEACTIVATED,
    PARK_GAVE_UP,
    PARK_LOCKED,
    PARK_MOVED,
    PARK_REJECTED,
    PARK_SCOPE,
    PARKED,
    PENDING,
    REMOVED,
    RESUME_ON_RECONNECT,
    STATES,
    SYNCED,
)

# States, mixins and ``item_from_payload`` are re-exported: the Flask layer and hosts import
# them from here.
__all__ = [
    "ACTIVE",
    "APPROVED",
    "AWAITING",
    "DECLINED",
    "FAILED",
    "INVALID",
    "PARKED",
    "PARK_AUTH",
    "PARK_CONFLICT",
    "PARK_DEACTIVATED",
    "PARK_GAVE_UP",
    "PARK_LOCKED",
    "PARK_MOVED",
    "PARK_REJECTED",
    "PARK_SCOPE",
    "PENDING",
    "REMOVED",
    "RESUME_ON_RECONNECT",
    "STATES",
    "SYNCED",
    "AccountMixin",
    "Models",
    "OutboxItemMixin",
    "PendingRevocationMixin",
    "define_models",
    "item_from_payload",
]


@dataclass(frozen=True)
class Models:
    """The SQLAlchemy classes :func:`define_models` made for one ``db``."""

    Account: Any
    PendingRevocation: Any
    Item: Any
    Event: Any
    RecordSync: Any
    OAuthState: Any
    WorkerHeartbeat: Any
    PermissionRequest: Any = None
    Invitation: Any = None
    Campaign: Any = None
    CampaignPerson: Any = None

    def set_cipher_provider(self, provider: Callable[[], TokenCipher]) -> None:
        """Tell the token-holding models where their cipher comes from."""
        self.Account.cipher_provider = staticmethod(provider)
        self.PendingRevocation.cipher_provider = staticmethod(provider)


_MODELS: weakref.WeakKeyDictionary[Any, Models] = weakref.WeakKeyDictionary()


def define_models(db: Any) -> Models:
    """Define the ``orcid_*`` tables on the host's Flask-SQLAlchemy ``db`` (once per ``db``).

    ``db`` is typed ``Any`` (and so are the classes made here): its ``Model`` base is the
    host's, built at run time, so no static type describes it.
    """
    cached = _MODELS.get(db)
    if cached is not None:
        return cached
    models = Models(Account=_account_model(db), PendingRevocation=_revocation_model(db),
                    Item=_item_model(db), Event=_event_model(db),
                    RecordSync=_record_sync_model(db), OAuthState=_oauth_state_model(db),
                    WorkerHeartbeat=_heartbeat_model(db), Invitation=_invitation_model(db),
                    Campaign=campaign_model(db), CampaignPerson=campaign_person_model(db),
                    PermissionRequest=_permission_request_model(db))
    budget_table(db.Model.metadata)  # the shared rate budget lives beside the outbox
    _MODELS[db] = models
    return models


def _account_model(db: Any) -> Any:
    class ORCIDAccount(AccountMixin, db.Model):
        __tablename__ = "orcid_accounts"

        id = db.Column(db.Integer, primary_key=True)
        user_key = db.Column(db.String(255), nullable=False, index=True)
        orcid = db.Column(db.String(19), nullable=False, unique=True)
        name = db.Column(db.String(255), nullable=True)
        environment = db.Column(db.String(16), nullable=False)
        scopes = db.Column(db.String(255), nullable=False, default="")
        _access_token = db.Column("access_token", db.Text, nullable=False)
        _refresh_token = db.Column("refresh_token", db.Text, nullable=True)
        expires_at = db.Column(db.DateTime, nullable=True)
        status = db.Column(db.String(16), nullable=False, default=ACTIVE)
        created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
        updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    return ORCIDAccount


def _revocation_model(db: Any) -> Any:
    class ORCIDPendingRevocation(PendingRevocationMixin, db.Model):
        __tablename__ = "orcid_pending_revocations"

        id = db.Column(db.Integer, primary_key=True)
        orcid = db.Column(db.String(19), nullable=True)
        environment = db.Column(db.String(16), nullable=False)
        _token = db.Column("token", db.Text, nullable=False)
        attempts = db.Column(db.Integer, nullable=False, default=0)
        next_attempt_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
        last_error = db.Column(db.String(255), nullable=True)
        created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    return ORCIDPendingRevocation


def _item_model(db: Any) -> Any:
    class OutboxItem(OutboxItemMixin, db.Model):
        """One item the site wants on one researcher's record."""

        __tablename__ = "orcid_outbox_items"
        __table_args__ = (
            sa.UniqueConstraint("user_key", "kind", "key", name="uq_orcid_outbox_item"),
            # the worker's "what is due" query: the rows still to do, in id order; claiming
            # walks this, never the synced rows (it replaces ix_orcid_outbox_due on
            # (state, next_attempt_at), which planners preferred and then sorted every row
            # to do on each claim)
            sa.Index("ix_orcid_outbox_todo", "id",
                     sqlite_where=sa.text("state IN ('pending', 'failed')"),
                     postgresql_where=sa.text("state IN ('pending', 'failed')")),
            # a claim's rows, by its token (results, release); only leased rows are in it,
            # so publishing a new row does not touch it
            sa.Index("ix_orcid_outbox_lease", "lease_owner",
                     sqlite_where=sa.text("lease_owner IS NOT NULL"),
                     postgresql_where=sa.text("lease_owner IS NOT NULL")),
            # the rows that need a person (the admin page): only those are in it, so a new
            # (pending) row does not touch it. A researcher's rows are found through the
            # unique (user_key, kind, key) index; every query on ``orcid`` also names the
            # user_key, so neither needs an index of its own (each index is one more page
            # written by every deposit and every state change)
            sa.Index("ix_orcid_outbox_attention", "state",
                     sqlite_where=sa.text("state IN ('parked', 'failed')"),
                     postgresql_where=sa.text("state IN ('parked', 'failed')")),
        )

        id = db.Column(sa.Integer, primary_key=True)
        user_key = db.Column(sa.String(255), nullable=False)
        #: "work" or an affiliation section ("education", ...)
        kind = db.Column(sa.String(32), nullable=False)
        #: the host's stable id for the item ("thesis:42")
        key = db.Column(sa.String(255), nullable=False)
        #: desired state: the item's ``to_dict()`` JSON; kept after a retraction for display
        payload = db.Column(sa.Text, nullable=False)
        payload_hash = db.Column(sa.String(64), nullable=False)
        #: True once the host retracted the item: it should not be on the record
        retracted = db.Column(sa.Boolean, nullable=False, default=False)
        #: the iD of the record ``put_code`` belongs to
        orcid = db.Column(sa.String(19))
        put_code = db.Column(sa.BigInteger)
        #: hash of the payload last written successfully (POST or PUT)
        written_hash = db.Column(sa.String(64))
        #: JSON list of the normalized ``self`` ids ([type, value]) of earlier payloads that
        #: may have reached ORCID without us learning the put-code (a POST whose answer was
        #: lost, then the identifier corrected): adoption looks for those too
        earlier_self_ids = db.Column(sa.Text)
        state = db.Column(sa.String(24), nullable=False, default=PENDING)
        park_reason = db.Column(sa.String(24))
        attempts = db.Column(sa.Integer, nullable=False, default=0)
        next_attempt_at = db.Column(sa.DateTime)
        last_attempt_at = db.Column(sa.DateTime)
        error_status = db.Column(sa.Integer)
        error_code = db.Column(sa.Integer)
        error_message = db.Column(sa.Text)
        lease_owner = db.Column(sa.String(64))
        lease_expires_at = db.Column(sa.DateTime)
        created_at = db.Column(sa.DateTime, nullable=False, default=utcnow)
        updated_at = db.Column(sa.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
        synced_at = db.Column(sa.DateTime)
        #: the researcher's decision before the first delivery: None (none yet), "approved"
        #: or "declined" (see :mod:`.approval`); kept across new versions of the item
        approval = db.Column(sa.String(16))
        approval_at = db.Column(sa.DateTime)

    return OutboxItem


def _event_model(db: Any) -> Any:
    class OutboxEvent(db.Model):
        """One attempt to converge one row: the audit log (no tokens, no payloads)."""

        __tablename__ = "orcid_outbox_events"
        __table_args__ = (
            sa.Index("ix_orcid_outbox_events_created", "created_at"),
            sa.Index("ix_orcid_outbox_events_user", "user_key"),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        item_id = sa.Column(sa.Integer, index=True)
        user_key = sa.Column(sa.String(255), nullable=False)
        orcid = sa.Column(sa.String(19))
        kind = sa.Column(sa.String(32))
        key = sa.Column(sa.String(255))
        #: POST, POST bulk, PUT, DELETE, GET works, adopt, sync
        operation = sa.Column(sa.String(24), nullable=False)
        status = sa.Column(sa.Integer)
        error_code = sa.Column(sa.Integer)
        outcome = sa.Column(sa.String(24))
        message = sa.Column(sa.Text)
        put_code = sa.Column(sa.BigInteger)
        duration_ms = sa.Column(sa.Integer)
        worker = sa.Column(sa.String(64))
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)

    return OutboxEvent


def _record_sync_model(db: Any) -> Any:
    class RecordSync(db.Model):
        """Per record: webhook registration and pending sync requests (from webhooks)."""

        __tablename__ = "orcid_record_sync"

        orcid = sa.Column(sa.String(19), primary_key=True)
        webhook_url = sa.Column(sa.Text)
        webhook_registered_at = sa.Column(sa.DateTime)
        sync_requested_at = sa.Column(sa.DateTime, index=True)
        last_synced_at = sa.Column(sa.DateTime)
        #: set when the researcher disconnected: the worker removes the hook at ORCID, then
        #: this row (the iD is kept only until then)
        unregister_requested_at = sa.Column(sa.DateTime)

    return RecordSync


def _oauth_state_model(db: Any) -> Any:
    class OAuthState(db.Model):
        """An OAuth ``state`` issued by ``/connect``: spent once, on the server."""

        __tablename__ = "orcid_oauth_states"

        #: SHA-256 of the state (the state itself travels in URLs; it is not kept)
        state_hash = sa.Column(sa.String(64), primary_key=True)
        user_key = sa.Column(sa.String(255))
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, index=True)
        consumed_at = sa.Column(sa.DateTime)
        #: after a successful sign-in: the user the iD was linked to (a repeated callback of
        #: that user lands on a success page instead of an error)
        connected_user_key = sa.Column(sa.String(255))
        #: the invitation this sign-in answers (its callback completes the invitation)
        invitation_id = sa.Column(sa.Integer)

    return OAuthState


def _heartbeat_model(db: Any) -> Any:
    class WorkerHeartbeat(db.Model):
        """One delivery worker process: when it last ran, its last error, its pause."""

        __tablename__ = "orcid_worker_heartbeats"

        #: the worker's name (host:pid:random), as stored on events
        worker = sa.Column(sa.String(64), primary_key=True)
        started_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
        #: the last pass began / finished (finished: whether or not it met errors)
        pass_started_at = sa.Column(sa.DateTime)
        pass_ended_at = sa.Column(sa.DateTime)
        #: the last pass that finished without an error
        ok_at = sa.Column(sa.DateTime)
        last_error = sa.Column(sa.Text)
        last_error_at = sa.Column(sa.DateTime)
        #: set while the circuit breaker keeps the worker from calling ORCID
        paused_until = sa.Column(sa.DateTime)
        pause_reason = sa.Column(sa.Text)
        updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, index=True)

    return WorkerHeartbeat


def _permission_request_model(db: Any) -> Any:
    class PermissionRequest(db.Model):
        """A request for access put in a researcher's ORCID inbox (notification-permission)."""

        __tablename__ = "orcid_permission_requests"

        id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
        orcid = sa.Column(sa.String(19), nullable=False, index=True)
        #: the host user the connection is for (None: the host's sign-in handler decides)
        user_key = sa.Column(sa.String(255))
        #: why it was sent: "bounced", "revoked" or the host's own word
        reason = sa.Column(sa.String(32), nullable=False)
        #: SHA-256 of the link's token (the token itself travels in the notification only)
        token_hash = sa.Column(sa.String(64), nullable=False, unique=True)
        #: "sending", "sent", "connected", "failed" (see :mod:`.permission_requests`)
        status = sa.Column(sa.String(16), nullable=False, index=True)
        put_code = sa.Column(sa.BigInteger)
        error = sa.Column(sa.Text)
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
        expires_at = sa.Column(sa.DateTime, nullable=False)
        connected_at = sa.Column(sa.DateTime)

    return PermissionRequest


def _invitation_model(db: Any) -> Any:
    class Invitation(db.Model):
        """One person asked by email to authenticate their iD for one of the host's subjects."""

        __tablename__ = "orcid_invitations"

        id = sa.Column(sa.Integer, primary_key=True)
        #: SHA-256 of the link's token (the token travels in the email only; a resend
        #: replaces it, so an older link stops working)
        token_hash = sa.Column(sa.String(64), nullable=False, unique=True)
        #: the host's key of what the iD is for ("thesis:42") and of the person ("advisor:7")
        subject = sa.Column(sa.String(255), nullable=False, index=True)
        person_key = sa.Column(sa.String(255))
        name = sa.Column(sa.String(255), nullable=False)
        given_names = sa.Column(sa.String(150))
        family_names = sa.Column(sa.String(150))
        email = sa.Column(sa.String(254), nullable=False)
        #: what the person did ("advisor", "committee_member", "co_author"): the host's words
        role = sa.Column(sa.String(32))
        #: the language of the email and of the invitation's pages (the inviter's choice)
        lang = sa.Column(sa.String(8), nullable=False, default="en")
        inviter_key = sa.Column(sa.String(255))
        inviter_name = sa.Column(sa.String(255))
        #: what the invitee is asked about, as the email and the page name it (a thesis title)
        subject_title = sa.Column(sa.Text)
        #: the site offers to add the work to the invitee's record; ``opted_in`` is their answer
        offer_work = sa.Column(sa.Boolean, nullable=False, default=False)
        opted_in = sa.Column(sa.Boolean)
        #: an iD typed in for the person before (unauthenticated), to compare with theirs
        typed_orcid = sa.Column(sa.String(19))
        #: the iD the person authenticated, and the connection that may write to their record
        orcid = sa.Column(sa.String(19))
        account_key = sa.Column(sa.String(255))
        status = sa.Column(sa.String(16), nullable=False, default=INVITATION_SENT)
        send_count = sa.Column(sa.Integer, nullable=False, default=0)
        #: why the last email could not be sent (the inviter sees it)
        last_error = sa.Column(sa.Text)
        created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
        sent_at = sa.Column(sa.DateTime)
        opened_at = sa.Column(sa.DateTime)
        answered_at = sa.Column(sa.DateTime)
        cancelled_at = sa.Column(sa.DateTime)
        expires_at = sa.Column(sa.DateTime, nullable=False)
        updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

        def __repr__(self) -> str:
            return f"<ORCIDInvitation {self.id} {self.subject!r} {self.status}>"

    return Invitation

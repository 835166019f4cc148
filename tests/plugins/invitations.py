"""The host app's invitation hooks for the invitation tests (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.invitation_support import supervision_work
from tests.plugins.app import orcid


@pytest.fixture
def hooks() -> Iterator[dict[str, Any]]:
    """The shared host app's invitation hooks: subjects ``thesis:*`` may be managed by the
    user with key ``1``; on success the invitation is recorded in ``accepted`` and, when the
    invitee opted in, a supervision work is published for them."""
    seen: dict[str, Any] = {"accepted": [], "allowed": {"1"}}

    @orcid.invitation_permission
    def may(user: Any, subject: str) -> bool:
        return user is not None and user.key in seen["allowed"] and subject.startswith("thesis:")

    @orcid.invitation_accepted
    def accepted(invitation: Any, account: Any) -> None:
        seen["accepted"].append((invitation.id, invitation.orcid,
                                 account.user_key if account is not None else None))
        if account is not None:
            orcid.publish(account.user_key, f"supervision:{invitation.subject}",
                          supervision_work(invitation))

    yield seen
    orcid._invitation_permission = None
    orcid._invitation_accepted = None

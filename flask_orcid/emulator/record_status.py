"""Records that are locked, deactivated, deprecated or merged, as ORCID answers for them.

ORCID checks the record before anything else on every API call (ORCID-Source
orcid-core/src/main/java/org/orcid/core/manager/v3/impl/OrcidSecurityManagerImpl.java:146-197,
``checkProfile``):

- deprecated (a primary record is set): ``OrcidDeprecatedException``, 9007. The answer is 301 on
  a GET and 409 on any other method, with a ``Location`` naming the same URL on the primary iD
  (orcid-api-common/src/main/java/org/orcid/api/common/jaxb/OrcidExceptionMapper.java:324-389).
  A merge (the researcher removing a duplicate record) is a deprecation too
  (orcid-core/.../manager/impl/AdminManagerImpl.java:62-69, AUTO_DEPRECATION): same answer.
- locked: ``LockedException``, 409/9018; deactivated: ``DeactivatedException``, 409/9044
  (orcid-core/.../exception/OrcidCoreExceptionMapper.java:103-116; texts from
  orcid-core/src/main/resources/i18n/api_en.properties:27-28, :59-60, :136-137).

Deprecating or deactivating clears the record (ProfileEntityManagerImpl.java:168-213): its
activities are removed, not moved; a deprecation moves its emails to the primary record.
``POST /_emulator/records/<orcid>/status`` sets the state.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from .control import same_origin_only
from .rules import ApiError
from .runtime import state
from .state import Researcher

bp = Blueprint("record_status", __name__)
bp.before_request(same_origin_only)

STATUSES = ("active", "locked", "deactivated", "deprecated", "merged")


class DeprecatedRecord(ApiError):
    """9007 with the primary record's URL for the ``Location`` header."""

    def __init__(self, status: int, developer: str, user: str, location: str):
        super().__init__(status, 9007, developer, user)
        self.location = location


def check_profile(researcher: Researcher) -> None:
    """Raise what ORCID raises for a record that is not active (checkProfile order)."""
    if researcher.status in ("deprecated", "merged") and researcher.primary:
        base = request.host_url.rstrip("/")
        status = 301 if request.method == "GET" else 409
        head = "301 Moved Permanently" if status == 301 else "409 Conflict"
        primary_url = f"{base}/{researcher.primary}"
        raise DeprecatedRecord(
            status,
            f"{head}: This account is deprecated. Please refer to account: {primary_url}. "
            f"ORCID {base}/{researcher.orcid}",
            f"This account is deprecated. Please refer to account: {primary_url}.",
            request.url.replace(researcher.orcid, researcher.primary),
        )
    if researcher.status == "locked":
        raise ApiError(409, 9018, "409 Conflict: The ORCID record is locked and cannot be "
                       f"edited. ORCID {researcher.orcid}", "The ORCID record is locked.")
    if researcher.status == "deactivated":
        raise ApiError(409, 9044, "409 Conflict: The ORCID record is deactivated and cannot "
                       "be edited.", "The ORCID record is deactivated.")


def _refusal(researchers: dict[str, Researcher], orcid: str, status: Any,
             primary: Any) -> str | None:
    """Why the control request cannot be applied (AdminManagerImpl.java:113-137), or None."""
    if status not in STATUSES:
        return f"status must be one of {', '.join(STATUSES)}"
    if status not in ("deprecated", "merged"):
        return None
    target = researchers.get(primary) if isinstance(primary, str) else None
    if target is None or primary == orcid:
        return "a deprecated or merged record needs the iD of another, existing primary record"
    if target.status != "active":
        return f"the primary record {primary} is {target.status}"
    return None


def _clear(researcher: Researcher, primary: Researcher | None) -> None:
    researcher.items = {}
    if primary is not None:
        for email in researcher.emails:
            email.primary = False
        primary.emails.extend(researcher.emails)
        researcher.emails = []


@bp.route("/_emulator/records/<orcid>/status", methods=["POST"])
def set_status(orcid: str) -> Response:
    """``{"status": "locked"|"deactivated"|"deprecated"|"merged"|"active", "primary": iD}``."""
    data = request.get_json(silent=True) or {}
    status, primary = data.get("status"), data.get("primary")
    st = state()
    with st.lock:
        researcher = st.researchers.get(orcid)
        if researcher is None:
            abort(404, description=f"No researcher {orcid}")
        refusal = _refusal(st.researchers, orcid, status, primary)
        if refusal:
            abort(400, description=refusal)
        target = st.researchers.get(primary) if isinstance(primary, str) else None
        if status in ("deprecated", "merged", "deactivated"):
            _clear(researcher, target if status != "deactivated" else None)
        researcher.status = str(status)
        researcher.primary = primary if status in ("deprecated", "merged") else None
        st.save()
    st.record_changed(orcid)
    return jsonify({"orcid": orcid, "status": researcher.status, "primary": researcher.primary})

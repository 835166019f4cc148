"""The integration check's data: what the host tells it, what it finds, what it shows.

Plain dataclasses, no behaviour beyond small helpers, so the CLI, the admin page, the JSON
output and the evidence pack all read the same objects.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAIL", "MANUAL", "PASS", "CheckTargets", "Evidence", "Finding", "Report"]

#: A point the check verified on the running site.
PASS = "pass"
#: A point the running site does not meet; the reason says why and what to change.
FAIL = "fail"
#: A point the check cannot verify here (it needs ORCID's screens outside the emulator);
#: the reason says what to show ORCID's reviewers instead. Never makes the check fail.
MANUAL = "manual"


@dataclass
class CheckTargets:
    """What the integration check needs from the host site (``@orcid.check_targets``).

    :param user_key: the key of a test account of the site that the check may connect to
        ORCID and disconnect again (never a real person's account).
    :param sign_in: ``sign_in(session)`` puts that account's sign-in into a Flask session
        (a dict-like object), the way the site's own login does. It runs outside any
        application context: read what it needs (ids) beforehand, and only write keys.
    :param connect_page: the page where a researcher meets the connect button and the
        explanation of ORCID (default: the extension's own connection page).
    :param form_page: the form the site prefills from the ORCID record (evidence and the
        prefill point; optional).
    :param public_pages: public pages that show iDs (a thesis landing page with an
        authenticated author and, ideally, a typed-in advisor iD).
    :param exports: machine-readable exports that carry iDs (JSON-LD, OAI-PMH, DataCite);
        the ``describedby`` links of the public pages are found and added by the check.
    :param authenticated_ids: iDs the site authenticated through ORCID's OAuth outside the
        extension's own connections (the extension's connections always count).
    """

    user_key: str | None = None
    sign_in: Callable[[MutableMapping[str, Any]], None] | None = None
    connect_page: str | None = None
    form_page: str | None = None
    public_pages: list[str] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)
    authenticated_ids: set[str] = field(default_factory=set)


@dataclass
class Finding:
    """The answer for one point of the checklist."""

    point: str
    status: str
    reason: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL


@dataclass
class Evidence:
    """One step of the evidence pack: a screenshot (PNG bytes) and what it shows."""

    step: str
    title: str
    caption: str
    png: bytes
    url: str = ""


@dataclass
class Report:
    """The whole run: the findings in checklist order, plus screenshots when a browser ran."""

    site: str
    environment: str
    findings: list[Finding] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(f.failed for f in self.findings)

    def counts(self) -> dict[str, int]:
        out = {PASS: 0, FAIL: 0, MANUAL: 0}
        for finding in self.findings:
            out[finding.status] = out.get(finding.status, 0) + 1
        return out

    def finding(self, point: str) -> Finding | None:
        return next((f for f in self.findings if f.point == point), None)

"""The integration check: ORCID's member integration checklist run against the running site.

``flask orcid check`` and the admin page ``/orcid/admin/check`` run it; with a browser,
``flask orcid check --evidence DIR`` also writes the evidence pack ORCID's reviewers ask for.
The host tells the check its test account and pages through ``@orcid.check_targets``
(:class:`CheckTargets`). docs/integration-check.md lists the points and their sources.
"""

from __future__ import annotations

from .model import FAIL, MANUAL, PASS, CheckTargets, Evidence, Finding, Report
from .points import POINTS, SOURCES, Point
from .runner import run_check

__all__ = ["FAIL", "MANUAL", "PASS", "POINTS", "SOURCES", "CheckTargets", "Evidence", "Finding",
           "Point", "Report", "run_check"]

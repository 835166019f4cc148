"""The check's answers for people (the CLI's lines), for programs (``--json``) and for ORCID's
reviewers (the evidence pack: one self-contained HTML file, screenshots as ``data:`` URIs)."""

from __future__ import annotations

import base64
import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, render_template

from .model import FAIL, MANUAL, PASS, Report
from .points import POINTS, SOURCES, point

__all__ = ["as_json", "as_lines", "write_evidence_pack"]

LABELS = {PASS: "PASS", FAIL: "FAIL", MANUAL: "SHOW"}


def as_lines(report: Report, width: int = 100) -> list[str]:
    """One block per point: status, id and title, then the reason indented."""
    lines = [f"ORCID integration check of {report.site} ({report.environment})", ""]
    for finding in report.findings:
        lines.append(f"{LABELS.get(finding.status, finding.status):<5} {finding.point}: "
                     f"{point(finding.point).title}")
        lines += textwrap.wrap(finding.reason, width, initial_indent="      ",
                               subsequent_indent="      ")
    lines += ["", *(f"note: {n}" for n in report.notes)] if report.notes else []
    counts = report.counts()
    lines.append("")
    lines.append(f"{len(report.findings)} points: {counts[PASS]} pass, {counts[FAIL]} fail, "
                 f"{counts[MANUAL]} to show the reviewer.")
    return lines


def as_json(report: Report) -> str:
    data: dict[str, Any] = {
        "site": report.site,
        "environment": report.environment,
        "passed": report.passed,
        "counts": report.counts(),
        "points": [
            {"id": f.point, "title": str(point(f.point).title), "status": f.status,
             "reason": f.reason, "sources": [SOURCES[s] for s in point(f.point).sources]}
            for f in report.findings
        ],
        "evidence": [{"step": e.step, "title": e.title, "caption": e.caption, "url": e.url}
                     for e in report.evidence],
        "notes": report.notes,
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def write_evidence_pack(app: Flask, report: Report, directory: Path) -> Path:
    """``directory/orcid-evidence.html``: the steps with their screenshots, then the answers."""
    directory.mkdir(parents=True, exist_ok=True)
    steps = [{"step": e.step, "title": e.title, "caption": e.caption, "url": e.url,
              "src": "data:image/png;base64," + base64.b64encode(e.png).decode("ascii")}
             for e in report.evidence]
    with app.test_request_context("/"):
        html = render_template(
            "orcid/check_evidence.html", report=report, steps=steps, labels=LABELS,
            points={p.id: p for p in POINTS}, sources=SOURCES,
            made=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    path = directory / "orcid-evidence.html"
    path.write_text(html, encoding="utf-8")
    return path

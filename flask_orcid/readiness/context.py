"""One run of the integration check: the site, ORCID's side, the extension's URLs, and the
findings so far. Every point reads and writes this object, in checklist order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask, url_for

from ..protocol.endpoints import Endpoints
from ..state import get_state
from .model import CheckTargets, Finding, Report
from .points import POINTS
from .registry import Emulator
from .site import Site

__all__ = ["CheckRun", "Urls", "query_of"]


def query_of(url: str) -> dict[str, str]:
    """The first value of each query parameter of ``url``."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


@dataclass
class Urls:
    """The extension's own pages, as paths on the site."""

    connect: str
    callback: str
    connection: str
    confirm_disconnect: str
    disconnect: str

    @classmethod
    def build(cls) -> Urls:
        """Inside a request context of the site (``url_for``)."""
        return cls(url_for("orcid.connect"), url_for("orcid.callback"),
                   url_for("orcid.connection"), url_for("orcid.confirm_disconnect"),
                   url_for("orcid.disconnect"))


@dataclass
class CheckRun:
    """Shared state of one run."""

    app: Flask
    site: Site
    targets: CheckTargets
    urls: Urls
    emulator: Emulator | None
    report: Report
    #: the researcher's iD and plaintext token while connected (memory only, never shown)
    orcid: str | None = None
    token: str | None = None
    #: the authorize URL the site sent the browser to, and its query
    authorize_url: str = ""
    authorize_query: dict[str, str] = field(default_factory=dict)
    #: pages kept for later points (the denial page, an error page)
    pages: dict[str, Any] = field(default_factory=dict)

    @property
    def ext(self) -> Any:
        return get_state(self.app).extension

    @property
    def endpoints(self) -> Endpoints:
        return get_state(self.app).endpoints

    @property
    def environment(self) -> str:
        return self.endpoints.environment

    @property
    def next_url(self) -> str:
        """Where a connection should land: the prefilled form, else the connection page."""
        return self.targets.form_page or self.urls.connection

    def add(self, point: str, status: str, reason: str) -> None:
        """Record the answer for ``point`` (the first answer for a point wins)."""
        if self.report.finding(point) is None:
            self.report.findings.append(Finding(point, status, reason))

    def ordered(self) -> None:
        """Put the findings in checklist order."""
        order = {p.id: i for i, p in enumerate(POINTS)}
        self.report.findings.sort(key=lambda f: order.get(f.point, len(order)))

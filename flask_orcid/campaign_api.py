"""The institution's API (issue 16, items 1 and 2), mixed into :class:`~flask_orcid.ORCID`:
the host's two hooks (its people, its past graduates) and the calls behind the people page,
the campaign pages and ``flask orcid people`` / ``flask orcid campaign``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app

from .campaign_runner import StepResult, run_step
from .errors import ConfigurationError
from .i18n import LOCALES
from .protocol.model import Organization
from .site_urls import site_context
from .state import current_flask_app
from .sync import campaigns as cp
from .sync.campaign_reasons import BOUNCE_REPORTED
from .sync.campaign_rows import Graduate, RowProblem, read_csv
from .sync.directory import InstitutionPerson
from .sync.models import Models

__all__ = ["CampaignAPI"]


class CampaignAPI:
    """People and backfill campaigns: hooks and calls (part of :class:`~flask_orcid.ORCID`)."""

    db: Any
    _people_source: Callable[[], Iterable[InstitutionPerson]] | None = None
    _graduates_source: Callable[[], Iterable[Graduate]] | None = None

    def _models(self) -> Models:  # pragma: no cover - ORCID defines it
        raise NotImplementedError

    def people_source(self, func: Callable[[], Iterable[InstitutionPerson]]
                      ) -> Callable[[], Iterable[InstitutionPerson]]:
        """Register ``func() -> iterable of InstitutionPerson``: the institution's people (students,
        graduates, staff) the people page and ``flask orcid people`` list."""
        self._people_source = func
        return func

    def graduates_source(self, func: Callable[[], Iterable[Graduate]]
                         ) -> Callable[[], Iterable[Graduate]]:
        """Register ``func() -> iterable of Graduate``: past graduates and their theses, the
        other source of a campaign (besides an uploaded CSV)."""
        self._graduates_source = func
        return func

    def people(self) -> list[InstitutionPerson]:
        """The host's people (empty without a ``people_source`` hook)."""
        return list(self._people_source()) if self._people_source is not None else []

    def institution(self) -> Organization:
        """The institution of the degrees, from the ``ORCID_INSTITUTION_*`` settings."""
        cfg = current_app.config
        if not cfg.get("ORCID_INSTITUTION_NAME") or not cfg.get("ORCID_INSTITUTION_COUNTRY"):
            raise ConfigurationError(
                "Set ORCID_INSTITUTION_NAME, ORCID_INSTITUTION_CITY, ORCID_INSTITUTION_COUNTRY "
                "and ORCID_INSTITUTION_ROR: a campaign adds degrees at that organization.")
        return Organization(
            name=str(cfg["ORCID_INSTITUTION_NAME"]), city=cfg.get("ORCID_INSTITUTION_CITY"),
            region=cfg.get("ORCID_INSTITUTION_REGION") or None,
            country=str(cfg["ORCID_INSTITUTION_COUNTRY"]),
            disambiguated_id=cfg.get("ORCID_INSTITUTION_ROR") or None,
            disambiguation_source="ROR" if cfg.get("ORCID_INSTITUTION_ROR") else None)

    def create_campaign(self, *, name: str, csv_text: str | None = None,
                        from_host: bool = False, lang: str = "en",
                        created_by: str | None = None,
                        sender_name: str | None = None) -> Any:
        """A new campaign of the graduates in ``csv_text`` (see :mod:`.sync.campaign_rows`
        for the columns) or, with ``from_host``, of the ``graduates_source`` hook; commits.
        Refused rows are kept on the campaign with their line numbers
        (:func:`.sync.campaigns.problems_of`); the others are queued for the run step."""
        institution = self.institution()
        problems: list[RowProblem] = []
        if from_host:
            if self._graduates_source is None:
                raise ConfigurationError("Register the site's graduates with "
                                         "@orcid.graduates_source to start a campaign of them.")
            with site_context(current_flask_app()):  # the hook may build the site's URLs
                graduates, source = list(self._graduates_source()), "host"
        else:
            graduates, problems = read_csv(csv_text or "", institution)
            source = "csv"
        cfg = current_flask_app().config
        campaign = cp.create(
            self.db.session, self._models(), name=name, source=source,
            lang=lang if lang in ("en", *LOCALES) else "en", graduates=graduates,
            problems=problems, institution=institution,
            reminder_days=float(cfg["ORCID_CAMPAIGN_REMINDER_DAYS"]),
            max_reminders=int(cfg["ORCID_CAMPAIGN_MAX_REMINDERS"]), created_by=created_by,
            sender_name=sender_name)
        self.db.session.commit()
        return campaign

    def run_campaigns(self, campaign_id: int | None = None, *,
                      progress: Callable[[StepResult], None] | None = None) -> StepResult:
        """One run step (:func:`.campaign_runner.run_step`) in the current app."""
        return run_step(current_flask_app(), campaign_id=campaign_id, progress=progress)

    def record_bounces(self, emails: Iterable[str],
                       reason: str = BOUNCE_REPORTED.text()) -> list[Any]:
        """Mark the campaign people emailed at ``emails`` as bounced; commits."""
        rows = cp.record_bounces(self.db.session, self._models(), emails, reason)
        self.db.session.commit()
        return rows

    def get_campaign(self, campaign_id: int) -> Any:
        return self.db.session.get(self._models().Campaign, campaign_id)

    def campaigns(self) -> list[Any]:
        model = self._models().Campaign
        return list(self.db.session.scalars(sa.select(model).order_by(model.id.desc())))

    def campaign_people(self, campaign_id: int, *, status: str | None = None,
                        text: str | None = None) -> list[Any]:
        """The people of a campaign in their order, optionally of one status or matching
        ``text`` in their name, email or thesis title."""
        person = self._models().CampaignPerson
        query = sa.select(person).where(person.campaign_id == campaign_id)
        if status:
            query = query.where(person.status == status)
        if text:
            like = f"%{text.strip().lower()}%"
            query = query.where(sa.or_(sa.func.lower(person.name).like(like),
                                       sa.func.lower(person.email).like(like),
                                       sa.func.lower(person.title).like(like)))
        return list(self.db.session.scalars(query.order_by(person.line, person.id)))

    def campaign_counts(self, campaign_id: int) -> dict[str, int]:
        return cp.counts(self.db.session, self._models(), campaign_id)

"""``flask orcid people`` and ``flask orcid campaign create|run|status|export|bounce|pause|
resume`` (issue 16, items 1 and 2)."""

from __future__ import annotations

import csv
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup, with_appcontext

from .campaign_export import csv_cell, status_csv
from .campaign_runner import StepResult
from .cli_loop import end_session
from .errors import ConfigurationError, ORCIDError
from .people import people_states, record_holders
from .state import get_state
from .sync import campaigns as cp
from .sync.campaign_reasons import BOUNCE_REPORTED

__all__ = ["campaign_cli", "people_command"]

campaign_cli = AppGroup("campaign", help="Backfill campaigns: invite past graduates to add "
                                         "their thesis and degree to their ORCID record.")

log = logging.getLogger(__name__)


def _ext() -> Any:
    return get_state().extension


@click.command("people")
@click.option("--csv", "as_csv", is_flag=True, help="Comma-separated values on stdout.")
@click.option("--search/--no-search", default=True, show_default=True,
              help="Also ask ORCID's search for record holders not connected here.")
@with_appcontext
def people_command(as_csv: bool, search: bool) -> None:
    """The institution's people and their ORCID state here; then the record holders ORCID's
    search finds at the institution who have not connected."""
    ext = _ext()
    people = ext.people()
    rows = [["kind", "key", "name", "email", "connection", "orcid", "invitation"]]
    for state in people_states(people):
        p = state.person
        rows.append([p.kind, p.key, p.name, p.email or "", state.connection,
                     state.orcid or "", state.invitation_status or ""])
    holders = []
    if search:
        try:
            holders = record_holders(people)
        except (ConfigurationError, ORCIDError) as exc:
            raise click.ClickException(f"ORCID's search: {exc}") from None
    for h in holders:
        rows.append(["record_holder", h.person.key if h.person else "", h.name,
                     " ".join(h.emails), "not_connected", h.orcid, ""])
    if as_csv:
        csv.writer(sys.stdout, lineterminator="\n").writerows(
            [[csv_cell(cell) for cell in row] for row in rows])
        return
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    click.echo(f"{len(people)} people, {len(holders)} record holders at the institution not "
               "connected here.")


@campaign_cli.command("create")
@click.option("--name", required=True, help="What the admin page calls the campaign.")
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A CSV of past theses and their authors (docs/campaigns.md).")
@click.option("--from-host", is_flag=True, help="The site's graduates (its graduates hook).")
@click.option("--lang", default="en", show_default=True, help="Language of the emails.")
@click.option("--sender", default=None, help="Who the emails say is asking.")
@with_appcontext
def create_command(name: str, csv_path: Path | None, from_host: bool, lang: str,
                   sender: str | None) -> None:
    """Make a campaign; its emails go out at the next `flask orcid campaign run`."""
    if bool(csv_path) == from_host:
        raise click.UsageError("Give either --csv FILE or --from-host.")
    try:
        campaign = _ext().create_campaign(
            name=name, csv_text=csv_path.read_text("utf-8-sig") if csv_path else None,
            from_host=from_host, lang=lang, sender_name=sender)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    total = sum(_ext().campaign_counts(campaign.id).values())
    click.echo(f"Campaign {campaign.id} ({campaign.name}): {total} people queued.")
    for problem in cp.problems_of(campaign):
        click.echo(f"  line {problem.line}: {problem.message}", err=True)


def _printer(every: float) -> Callable[[StepResult], None]:
    last = [0.0]

    def show(result: StepResult) -> None:
        now = time.monotonic()
        if now - last[0] >= every or result.done == result.due:
            last[0] = now
            click.echo(f"campaign: {result.line()}", err=True)

    return show


@campaign_cli.command("run")
@click.option("--campaign", "campaign_id", type=int, default=None, help="Only this one.")
@click.option("--loop", is_flag=True, help="Keep running, one step every --interval seconds.")
@click.option("--interval", default=60.0, show_default=True, type=click.FloatRange(min=0.1))
@click.option("--quiet", is_flag=True, help="No progress lines.")
@with_appcontext
def run_command(campaign_id: int | None, loop: bool, interval: float, quiet: bool) -> None:
    """Send the due invitations and reminders and move every person on (safe to run from
    cron and from several processes at once; a run that stops is continued by the next)."""
    ext = _ext()
    while True:
        try:
            result = ext.run_campaigns(campaign_id,
                                       progress=None if quiet else _printer(1.0))
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from None
        except Exception:
            if not loop:
                raise
            # a database restart, a lock held too long, the mail server gone: the people
            # being sent to are recovered by the next step (their lease runs out)
            log.exception("the campaign step failed; the next one tries again")
            click.echo("The campaign step failed (see the log); trying again.", err=True)
        else:
            click.echo(result.line())
        if not loop:
            return
        end_session(ext.db)
        time.sleep(interval)


@campaign_cli.command("status")
@click.option("--campaign", "campaign_id", type=int, default=None, help="Only this one.")
@with_appcontext
def status_command(campaign_id: int | None) -> None:
    """People per status in each campaign."""
    ext = _ext()
    for campaign in ext.campaigns():
        if campaign_id is not None and campaign.id != campaign_id:
            continue
        counts = ext.campaign_counts(campaign.id)
        state = "finished" if campaign.finished_at else campaign.status
        click.echo(f"{campaign.id} {campaign.name} ({state}, {sum(counts.values())} people, "
                   f"{len(cp.problems_of(campaign))} rows refused)")
        click.echo("  " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))


@campaign_cli.command("export")
@click.argument("campaign_id", type=int)
@click.option("--status", default=None, type=click.Choice(cp.STATUSES))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@with_appcontext
def export_command(campaign_id: int, status: str | None, output: Path | None) -> None:
    """The status CSV of a campaign (stdout, or --output FILE)."""
    ext = _ext()
    if ext.get_campaign(campaign_id) is None:
        raise click.ClickException(f"There is no campaign {campaign_id}.")
    text = status_csv(ext.campaign_people(campaign_id, status=status))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, "utf-8")


@campaign_cli.command("bounce")
@click.argument("emails", nargs=-1, required=True)
@click.option("--reason", default=BOUNCE_REPORTED.text(),
              help="Why, as the campaign page and the export show it (default: a bounce was "
                   "reported; the page shows that one in the reader's language).")
@with_appcontext
def bounce_command(emails: tuple[str, ...], reason: str) -> None:
    """Record bounces reported after sending: those people get no more reminders."""
    rows = _ext().record_bounces(emails, reason)
    for row in rows:
        click.echo(f"campaign {row.campaign_id}: {row.email} bounced")
    click.echo(f"{len(rows)} people marked bounced.")


def _set_status(campaign_id: int, status: str) -> None:
    ext = _ext()
    campaign = ext.get_campaign(campaign_id)
    if campaign is None:
        raise click.ClickException(f"There is no campaign {campaign_id}.")
    campaign.status = status
    ext.db.session.commit()
    click.echo(f"Campaign {campaign_id} is {status}.")


@campaign_cli.command("pause")
@click.argument("campaign_id", type=int)
@with_appcontext
def pause_command(campaign_id: int) -> None:
    """Send nothing more for this campaign until it is resumed (answers still count)."""
    _set_status(campaign_id, cp.PAUSED)


@campaign_cli.command("resume")
@click.argument("campaign_id", type=int)
@with_appcontext
def resume_command(campaign_id: int) -> None:
    _set_status(campaign_id, cp.ACTIVE)

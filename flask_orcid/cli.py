"""``flask orcid …``: stored tokens, delivery, synchronization, webhooks, status."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .cli_campaign import campaign_cli, people_command
from .cli_db import db_cli
from .cli_inbox import request_permission_command
from .cli_loop import end_session
from .errors import ORCIDError
from .pages import callback_url
from .protocol.identifiers import parse_orcid_id
from .protocol.ratelimit import Limiter
from .readiness.evidence import browser_problem, collect_evidence
from .readiness.report import as_json, as_lines, write_evidence_pack
from .readiness.runner import run_check
from .state import current_flask_app, get_state
from .sync import outbox as ob
from .sync import webhooks
from .sync.clients import client_from_config
from .sync.clock import utcnow
from .sync.crypto import TokenDecryptionError
from .sync.heartbeat import WorkerStatus, worker_statuses
from .sync.models import AWAITING, DECLINED, FAILED, PARKED
from .sync.reconcile import SyncSummary, sync_records
from .sync.webhooks import WebhookResult
from .sync.worker import Deliverer, PassResult

__all__ = ["orcid_cli"]

log = logging.getLogger(__name__)

orcid_cli = AppGroup("orcid", help="ORCID: stored tokens, delivery and synchronization.")
orcid_cli.add_command(db_cli)  # flask orcid db upgrade|downgrade|current|stamp
orcid_cli.add_command(campaign_cli)  # flask orcid campaign create|run|status|export|bounce
orcid_cli.add_command(people_command)  # flask orcid people
orcid_cli.add_command(request_permission_command)  # ORCID inbox permission requests


def _ext() -> Any:
    return get_state().extension


@orcid_cli.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored ORCID token under the first key of ORCID_TOKEN_KEYS."""
    try:
        tokens, accounts, pending = _ext().rotate_keys()
    except TokenDecryptionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Re-encrypted {tokens} tokens ({accounts} connections, {pending} pending "
        "revocations) under the first key of ORCID_TOKEN_KEYS."
    )


@orcid_cli.command("revoke-pending")
@click.option("--all", "all_", is_flag=True, help="Also retry revocations not yet due.")
def revoke_pending(all_: bool) -> None:
    """Retry revoking tokens ORCID could not revoke at disconnect or reconnect time."""
    done, kept = _ext().retry_pending_revocations(limit=None, due_only=not all_)
    click.echo(f"Revoked {done} tokens at ORCID; {kept} still pending.")
    if kept:
        raise SystemExit(1)


def _progress_printer(label: str,
                      limiter: Limiter | None = None) -> Callable[[PassResult], None]:
    """A progress line about once a second on stderr, for long passes."""
    started = time.monotonic()
    before = limiter.request_count if limiter is not None else 0

    def show(result: PassResult) -> None:
        elapsed = time.monotonic() - started
        sent = (limiter.request_count - before) if limiter is not None else result.requests
        click.echo(
            f"{label}: {result.claimed} claimed, {result.synced} synced, {result.failed} "
            f"to retry, {result.parked} parked, {result.removed} removed by researchers, "
            f"{sent} requests, {elapsed:.0f}s",
            err=True,
        )

    return show


@orcid_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep running, one pass every --interval seconds.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between passes with --loop.")
@click.option("--concurrency", default=None, type=click.IntRange(1, 64),
              help="Calls to ORCID in flight at once (default: ORCID_WORKER_CONCURRENCY); "
                   "every process shares one rate budget.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@with_appcontext
def deliver_command(loop: bool, interval: float, concurrency: int | None,
                    quiet: bool) -> None:
    """Send pending outbox items to ORCID (one pass, or --loop)."""
    ext = _ext()
    deliverer = ext.deliverer(concurrency=concurrency)
    concurrency = deliverer.concurrency
    if not quiet:
        deliverer.progress = _progress_printer("delivering", deliverer.rate_limiter)
    if loop:
        click.echo(f"Delivering every {interval:g}s with {concurrency} thread(s); "
                   "Ctrl-C stops.")
        try:
            _deliver_loop(ext, deliverer, interval, threading.Event())
        except KeyboardInterrupt:
            click.echo("Stopped.")
        return
    result = deliverer.run_once()
    _retry_revocations(ext)
    click.echo(_summary(result))
    if result.errors:
        raise click.exceptions.Exit(1)


def _deliver_loop(ext: Any, deliverer: Deliverer, interval: float,
                  stop: threading.Event) -> None:
    """Passes until ``stop``; no error ends the loop (a database restart, a dropped
    connection, a lock held too long): it is logged and recorded for ``status``, and the
    next pass tries again."""
    while not stop.is_set():
        result = deliverer.run_guarded()
        try:
            _retry_revocations(ext)
        except Exception:
            log.exception("retrying token revocations failed; the next pass tries again")
        finally:
            end_session(ext.db)
        if result is None:
            click.echo("The delivery pass failed (see the log); trying again.", err=True)
        elif result.claimed or result.records_synced:
            click.echo(_summary(result))
        stop.wait(interval)


def _retry_revocations(ext: Any) -> None:
    """Tokens ORCID could not revoke at disconnect/reconnect time get another try here."""
    done, kept = ext.retry_pending_revocations(limit=50)
    if done or kept:
        click.echo(f"Revoked {done} token(s) left over from disconnections; {kept} still pending.")


def _summary(result: PassResult) -> str:
    text = (f"{result.claimed} item(s) handled: {result.synced} done, {result.failed} to retry "
            f"later, {result.parked} parked, {result.removed} removed by researchers; "
            f"{result.requests} request(s) to ORCID")
    if result.records_synced:
        text += f"; {result.records_synced} record(s) re-read after webhooks"
    return text + "."


@orcid_cli.command("sync")
@click.option("--orcid", "orcid_id", default=None, help="Only this iD.")
@with_appcontext
def sync_command(orcid_id: str | None) -> None:
    """Re-read records (summaries only) and reconcile put-codes and removals."""
    ext = _ext()
    if orcid_id:
        try:
            orcid_id = parse_orcid_id(orcid_id)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--orcid") from None
    client = client_from_config(current_app.config, worker=True)

    def progress(n: int, total: int, summary: SyncSummary) -> None:
        if total > 20 and n % 10 == 0:
            click.echo(f"{n}/{total} records…", err=True)

    results = sync_records(current_flask_app(), ext.db, ext.models,
                           client, orcid=orcid_id, progress=progress)
    if orcid_id and not results:
        raise click.ClickException(f"No active connection for {orcid_id}.")
    for summary in results:
        click.echo(summary.line())
    removed = sum(s.removed for s in results)
    click.echo(f"{len(results)} record(s) checked, {removed} item(s) removed by researchers.")


@orcid_cli.group("webhooks")
def webhooks_group() -> None:
    """ORCID webhooks (premium members): register, unregister, list."""


@webhooks_group.command("register")
@click.option("--orcid", "orcids", multiple=True, help="Only these iDs (repeatable).")
@with_appcontext
def webhooks_register(orcids: tuple[str, ...]) -> None:
    """Ask ORCID to notify this site when connected records change."""
    ext = _ext()
    try:
        results = webhooks.register(
            ext.db, ext.models, client_from_config(current_app.config, worker=True),
            partial(callback_url, current_flask_app()),
            list(orcids) or None, progress=_count_progress)
    except ORCIDError as exc:  # no secret or address, or ORCID refused the /webhook token
        raise click.ClickException(str(exc)) from None
    _report(results, "registered")


@webhooks_group.command("unregister")
@click.option("--orcid", "orcids", multiple=True, help="Only these iDs (repeatable).")
@with_appcontext
def webhooks_unregister(orcids: tuple[str, ...]) -> None:
    """Remove this site's webhooks at ORCID."""
    ext = _ext()
    try:
        results = webhooks.unregister(
            ext.db, ext.models, client_from_config(current_app.config, worker=True),
            list(orcids) or None, progress=_count_progress)
    except ORCIDError as exc:
        raise click.ClickException(str(exc)) from None
    _report(results, "unregistered")


@webhooks_group.command("list")
@with_appcontext
def webhooks_list() -> None:
    """The webhooks this site registered (ORCID has no API to list them)."""
    ext = _ext()
    rows = webhooks.registered(ext.db, ext.models)
    for orcid, registered_at, synced_at in rows:
        click.echo(f"{orcid}  registered {registered_at:%Y-%m-%d %H:%M} UTC"
                   + (f", last sync {synced_at:%Y-%m-%d %H:%M} UTC" if synced_at else ""))
    click.echo(f"{len(rows)} webhook(s).")


def _count_progress(n: int, total: int, result: WebhookResult) -> None:
    if total > 20 and n % 10 == 0:
        click.echo(f"{n}/{total}…", err=True)


def _report(results: list[WebhookResult], verb: str) -> None:
    ok = [r for r in results if r.ok]
    for r in results:
        if not r.ok:
            click.echo(f"{r.orcid}: failed: {r.error}", err=True)
    click.echo(f"{len(ok)} webhook(s) {verb}, {len(results) - len(ok)} failed.")
    if len(ok) < len(results):
        raise click.exceptions.Exit(1)


@orcid_cli.command("status")
@click.option("--limit", default=50, show_default=True, help="Rows listed per state.")
@with_appcontext
def status_command(limit: int) -> None:
    """Items per state, and the parked and failed ones with their reason."""
    ext = _ext()
    models, session = ext.models, ext.db.session
    counts = ob.counts(session, models)
    width = max(len(s) for s in counts)
    for state, n in counts.items():
        click.echo(f"{state:<{width}}  {n}{_STATE_NOTES.get(state, '') if n else ''}")
    click.echo(f"\napproval: ORCID_APPROVAL = {current_app.config['ORCID_APPROVAL']}")
    _workers_status(session, models)
    Item = models.Item
    for state in (PARKED, FAILED):
        rows = session.scalars(
            sa.select(Item).where(Item.state == state).order_by(Item.updated_at.desc())
            .limit(limit)
        ).all()
        if not rows:
            continue
        click.echo(f"\n{state}:")
        for row in rows:
            code = ""
            if row.error_status:
                code = f" [HTTP {row.error_status}" + (
                    f", ORCID {row.error_code}]" if row.error_code else "]")
            when = (f", next attempt {row.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
                    if row.next_attempt_at else "")
            reason = f" ({row.park_reason})" if row.park_reason else ""
            click.echo(f"  {row.user_key} {row.kind} {row.key}{reason}{code}: "
                       f"{row.error_message or ''}{when}")


#: What the approval states mean, next to their counts.
_STATE_NOTES = {
    AWAITING: "  (never sent: waiting for the researcher's approval)",
    DECLINED: "  (never sent: declined by the researcher; only they can approve it)",
}


def _workers_status(session: Any, models: Any) -> None:
    """When each delivery worker last ran, and whether it is failing or paused."""
    workers = worker_statuses(session, models)
    now = utcnow()
    if not workers:
        click.echo("\nworkers: no delivery worker has run in the last 24 hours.")
        return
    click.echo("\nworkers:")
    for w in workers:
        click.echo(f"  {w.worker}: {_worker_line(w, now)}")


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    return f"{when:%Y-%m-%d %H:%M:%S} UTC ({max(0, int((now - when).total_seconds()))}s ago)"


def _worker_line(w: WorkerStatus, now: datetime) -> str:
    text = f"last pass {_ago(w.last_pass, now)}"
    if w.paused(now):
        assert w.paused_until is not None
        text += (f"; PAUSED until {w.paused_until:%Y-%m-%d %H:%M:%S} UTC: ORCID is not "
                 f"answering ({w.pause_reason or 'transient failures'})")
    if w.failing:
        text += f"; FAILING since {_ago(w.last_error_at, now)}: {w.last_error}"
    elif w.last_error_at is not None:
        text += (f"; ok since {_ago(w.ok_at, now)} (last error "
                 f"{_ago(w.last_error_at, now)}: {w.last_error})")
    else:
        text += "; ok"
    return text


@orcid_cli.command("retry")
@click.option("--parked", is_flag=True, help="Parked items too, not only failed ones.")
@click.option("--key", default=None, help="Only the items with this key.")
@with_appcontext
def retry_command(parked: bool, key: str | None) -> None:
    """Make failed (and with --parked, parked) items due now."""
    ext = _ext()
    n = ob.retry(ext.db.session, ext.models, parked=parked, key=key)
    ext.db.session.commit()
    click.echo(f"{n} item(s) scheduled; run `flask orcid deliver` (or let the worker pick "
               "them up).")


@orcid_cli.command("check")
@click.option("--json", "as_json_", is_flag=True, help="Print the answers as JSON.")
@click.option("--evidence", "evidence_dir", default=None,
              type=click.Path(file_okay=False, path_type=Path),
              help="Also write the evidence pack (needs Playwright and Chromium) to this folder.")
@click.option("--base-url", default=None,
              help="The site's public address (default ORCID_EXTERNAL_URL, SERVER_NAME); "
                   "the browser uses it when the site already runs there.")
@with_appcontext
def check_command(as_json_: bool, evidence_dir: Path | None, base_url: str | None) -> None:
    """Run ORCID's member integration checklist against this site (exit 1 on any fail)."""
    app = current_flask_app()
    problems: list[str] = []

    def evidence(run: Any) -> None:
        problem = browser_problem(run)
        if problem is not None:
            problems.append(problem)
            return
        collect_evidence(run, base_url)

    report = run_check(app, base_url, then=evidence if evidence_dir is not None else None)
    for problem in problems:
        click.echo(f"No evidence pack: {problem} The checklist ran without it.", err=True)
    if evidence_dir is not None and not problems:
        path = write_evidence_pack(app, report, evidence_dir)
        click.echo(f"Evidence pack: {path} ({len(report.evidence)} screenshots).", err=True)
    click.echo(as_json(report) if as_json_ else "\n".join(as_lines(report)))
    if not report.passed:
        raise click.exceptions.Exit(1)

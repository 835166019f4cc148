"""``flask orcid …`` commands. The group is shared: the outbox task adds its commands to it
(``from flask_orcid.cli import orcid_cli`` then ``@orcid_cli.command(...)``)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .crypto import TokenDecryptionError
from .extension import get_state

__all__ = ["orcid_cli"]

orcid_cli = AppGroup("orcid", help="ORCID: stored tokens, delivery and synchronization.")


@orcid_cli.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored ORCID token under the first key of ORCID_TOKEN_KEYS."""
    try:
        tokens, accounts, pending = get_state().extension.rotate_keys()
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
    done, kept = get_state().extension.retry_pending_revocations(limit=None, due_only=not all_)
    click.echo(f"Revoked {done} tokens at ORCID; {kept} still pending.")
    if kept:
        raise SystemExit(1)

"""``flask orcid request-permission``: a permission request in a researcher's ORCID inbox."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from .errors import ConfigurationError, ORCIDError
from .permission_requests import request_permission
from .protocol.identifiers import parse_orcid_id

__all__ = ["request_permission_command"]


@click.command("request-permission")
@click.argument("orcid_id")
@click.option("--user", "user_key", default=None,
              help="The user key the connection is for (default: the host's sign-in decides).")
@click.option("--reason", default="revoked", show_default=True,
              type=click.Choice(["revoked", "bounced", "other"]),
              help="Why the request is sent (kept with it).")
@click.option("--subject", default=None, help="Subject shown in the ORCID inbox.")
@click.option("--intro", default=None, help="Text shown before the items (up to 1000 chars).")
@with_appcontext
def request_permission_command(orcid_id: str, user_key: str | None, reason: str,
                               subject: str | None, intro: str | None) -> None:
    """Ask ORCID_ID, through their ORCID inbox, to connect to this site again."""
    try:
        bare = parse_orcid_id(orcid_id)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="ORCID_ID") from None
    try:
        with current_app.test_request_context(base_url=current_app.config.get("ORCID_SITE_URL")
                                              or None):
            row = request_permission(bare, user_key=user_key, reason=reason, subject=subject,
                                     intro=intro)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except ORCIDError as exc:
        raise click.ClickException(f"ORCID refused the request: {exc}") from None
    click.echo(f"Sent permission request {row.id} to {bare} (put-code {row.put_code}); "
               f"its link works until {row.expires_at:%Y-%m-%d}.")

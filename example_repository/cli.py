"""Commands a graduate school runs: ``flask --app example_repository lift-embargoes`` (daily,
from cron) and ``create-user`` (the first admin)."""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import deposit
from .db import db
from .models import User


def init_app(app: Flask) -> None:
    app.cli.add_command(lift_embargoes_command)
    app.cli.add_command(create_user_command)


@click.command("lift-embargoes")
@with_appcontext
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend it is this date (YYYY-MM-DD), to check what would be released.")
def lift_embargoes_command(today: dt.datetime | None) -> None:
    """Send theses whose embargo has ended to their authors' ORCID records."""
    base = current_app.config.get("REPOSITORY_BASE_URL") or "http://localhost:5000"
    with current_app.test_request_context(base_url=base):
        lifted = deposit.lift_embargoes(today.date() if today else None)
        db.session.commit()
    for thesis in lifted:
        click.echo(f"released thesis {thesis.id} ({thesis.doi}) to ORCID")
    click.echo(f"{len(lifted)} embargo(es) lifted.")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--given-names", default="", help="Given names.")
@click.option("--family-name", default="", help="Family name.")
@click.option("--admin", is_flag=True, help="Make this user a graduate-school admin.")
def create_user_command(email: str, password: str, given_names: str, family_name: str,
                        admin: bool) -> None:
    """Create an account (or reset its password and role)."""
    email = email.strip().lower()
    user = db.session.scalar(db.select(User).filter_by(email=email))
    if user is None:
        user = User(email=email, given_names=given_names, family_name=family_name)
        db.session.add(user)
    user.is_admin = admin
    user.set_password(password)
    db.session.commit()
    click.echo(f"{'admin' if admin else 'user'} {email} ready.")

"""``flask orcid db …``: the extension's own migrations of the ``orcid_*`` tables.

The revisions ship inside the package (:mod:`flask_orcid.sync.migrate`) and keep their version
in ``orcid_alembic_version``, apart from the host's own migrations.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.engine import Engine

from .state import get_state
from .sync import migrate

__all__ = ["db_cli"]

db_cli = AppGroup("db", help="The orcid_* tables: upgrade, downgrade, current, stamp.")


def _engine() -> Engine:
    engine: Engine = get_state().extension.db.engine
    return engine


def _describe(revision: str | None) -> str:
    if revision is None:
        return "none (no orcid_* migration has run)"
    return f"{revision} (head)" if revision == migrate.head() else revision


@db_cli.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade_command(revision: str) -> None:
    """Create or upgrade the orcid_* tables (to REVISION, default the newest)."""
    engine = _engine()
    found = migrate.unversioned_revision(engine)
    if found is not None:
        raise click.ClickException(
            "The orcid_* tables exist but carry no migration version: db.create_all() made "
            f"them. They match revision {found}: run `flask orcid db stamp {found}`, "
            "then `flask orcid db upgrade`."
        )
    migrate.upgrade(engine, revision)
    click.echo(f"orcid_* tables at revision {_describe(migrate.current(engine))}.")


@db_cli.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade_command(revision: str) -> None:
    """Undo orcid_* migrations down to REVISION ("base" drops every orcid_* table)."""
    engine = _engine()
    migrate.downgrade(engine, revision)
    click.echo(f"orcid_* tables at revision {_describe(migrate.current(engine))}.")


@db_cli.command("current")
@with_appcontext
def current_command() -> None:
    """The revision the orcid_* tables are at."""
    click.echo(_describe(migrate.current(_engine())))


@db_cli.command("stamp")
@click.argument("revision", required=False)
@with_appcontext
def stamp_command(revision: str | None) -> None:
    """Record REVISION without running migrations. Without REVISION: the one the tables made
    by db.create_all() (flask-orcid 0.1.0 and later, before migrations) match."""
    engine = _engine()
    if revision is None:
        revision = migrate.unversioned_revision(engine)
        if revision is None:
            raise click.ClickException(
                "Nothing to stamp: the database has a migration version already, or lacks the "
                "orcid_* tables (then run `flask orcid db upgrade`)."
            )
    migrate.stamp(engine, revision)
    click.echo(f"orcid_* tables stamped at revision {_describe(migrate.current(engine))}.")

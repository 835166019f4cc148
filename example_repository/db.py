"""The repository's Flask-SQLAlchemy instance, shared with flask-orcid (it adds its tables to it)."""

from __future__ import annotations

import logging

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import inspect, text
from sqlalchemy.orm import DeclarativeBase

from flask_orcid.sync import migrate as orcid_migrations


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Bind the database to ``app`` and add ``flask init-db``."""
    db.init_app(app)

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Create the repository's tables and upgrade flask-orcid's (its migrations)."""
        create_tables()
        click.echo("Database ready.")


#: (table, column, DDL) added to databases made by earlier versions.
MISSING_COLUMNS = [
    # logout ends every session (issue 13)
    ("users", "session_generation", "INTEGER NOT NULL DEFAULT 0"),
    # items left on the author's ORCID record after a disconnect (issue 14)
    ("theses", "orcid_left_on_record", "BOOLEAN NOT NULL DEFAULT false"),
    # the rights step (issue 14)
    ("theses", "license", "VARCHAR(64)"),
    ("theses", "agreement_accepted_at", "TIMESTAMP"),
    # everyone on a thesis, with the iD's authentication status (issue 15)
    ("advisors", "role", "VARCHAR(30) NOT NULL DEFAULT 'advisor'"),
    ("advisors", "email", "VARCHAR(254)"),
    ("advisors", "orcid_authenticated", "BOOLEAN NOT NULL DEFAULT false"),
]


def create_tables() -> None:
    """Bring the database up to date, whatever made it.

    - The repository's own tables: ``create_all`` (only those missing), then
      :func:`add_missing_columns`. The sample has no migrations of its own.
    - flask-orcid's ``orcid_*`` tables: the extension's migrations (``flask orcid db
      upgrade``), never ``create_all``.
    - A database made by an earlier sample (``create_all`` made the ``orcid_*`` tables too, so
      they carry no migration version) is first stamped at the revision its tables match,
      then upgraded: its rows stay. A real site does this once, by hand, with ``flask orcid
      db stamp``; the demo does it by itself so an old ``instance/`` keeps working.
    """
    own = [table for name, table in db.metadata.tables.items() if not name.startswith("orcid_")]
    db.metadata.create_all(db.engine, tables=own)
    add_missing_columns()
    made_by_create_all = orcid_migrations.unversioned_revision(db.engine)
    if made_by_create_all is not None:
        orcid_migrations.stamp(db.engine, made_by_create_all)
        log.info("flask-orcid's tables were made by create_all: stamped at %s",
                 made_by_create_all)
    before = orcid_migrations.current(db.engine)
    orcid_migrations.upgrade(db.engine)
    after = orcid_migrations.current(db.engine)
    if after != before:
        log.info("flask-orcid's tables upgraded from %s to %s", before or "nothing", after)


def add_missing_columns() -> None:
    """Bring a database made by an earlier version up to date (until the repository has
    migrations): the columns of :data:`MISSING_COLUMNS`."""
    inspector = inspect(db.engine)
    tables = set(inspector.get_table_names())
    for table, column, ddl in MISSING_COLUMNS:
        if table not in tables:
            continue
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            with db.engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))

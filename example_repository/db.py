"""The repository's Flask-SQLAlchemy instance, shared with flask-orcid (it adds its tables to it)."""

from __future__ import annotations

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import inspect, text
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def init_app(app: Flask) -> None:
    """Bind the database to ``app`` and add ``flask init-db``."""
    db.init_app(app)

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Create the repository's tables (and flask-orcid's) if they do not exist."""
        db.create_all()
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
]


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

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


def add_missing_columns() -> None:
    """Bring a database made by an earlier version up to date (until the repository has
    migrations): ``users.session_generation`` (logout ends every session, issue 13)."""
    inspector = inspect(db.engine)
    if "users" not in inspector.get_table_names():
        return
    if "session_generation" not in {c["name"] for c in inspector.get_columns("users")}:
        with db.engine.begin() as conn:
            conn.execute(text(
                "ALTER TABLE users ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0"))

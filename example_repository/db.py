"""The repository's Flask-SQLAlchemy instance, shared with flask-orcid (it adds its tables to it)."""

from __future__ import annotations

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
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

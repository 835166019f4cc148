"""The extension's own database migrations: the ``orcid_*`` tables, versioned by Alembic.

The migrations live in ``migrations/versions/`` next to this module and keep their version in
a table of their own, :data:`VERSION_TABLE` (``orcid_alembic_version``), so they never meet the
host's migrations (its ``alembic_version``) or touch the host's tables: autogenerate compares
only ``orcid_*`` tables (:func:`include_object`).

Every function takes an engine, a connection or a database URL:

- :func:`upgrade` to ``head`` (or a revision), :func:`downgrade` to a revision (``base`` drops
  every ``orcid_*`` table);
- :func:`current`: the revision the database is at, or None (no version row);
- :func:`stamp`: record a revision without running anything; for a database whose tables were
  made by ``db.create_all()`` before migrations existed, :func:`unversioned_revision` says
  which revision its tables match.

The Flask layer offers them as ``flask orcid db upgrade|downgrade|current|stamp``.
Contributors generate a new revision after changing :mod:`.models` with
``python -m flask_orcid.sync.migrate revision -m "what changed"`` (see :func:`new_revision`).
"""

from __future__ import annotations

import argparse
import functools
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import declarative_base
from sqlalchemy.pool import NullPool

from .models import define_models

__all__ = [
    "BASE_TABLES",
    "MIGRATIONS_DIR",
    "VERSIONS_DIR",
    "VERSION_TABLE",
    "current",
    "downgrade",
    "head",
    "include_object",
    "model_metadata",
    "new_revision",
    "run_migrations_online",
    "stamp",
    "unversioned_revision",
    "upgrade",
]

#: Alembic's environment (``env.py``, ``script.py.mako``) and ``versions/``
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: the revisions; a Flask-Migrate host may add this folder to its ``version_locations``
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
#: where the extension records its revision (never the host's ``alembic_version``)
VERSION_TABLE = "orcid_alembic_version"
#: the tables of flask-orcid 0.1.0 (revision ``orcid_0001``), made by ``db.create_all()``
BASE_TABLES = frozenset({"orcid_accounts", "orcid_pending_revocations", "orcid_outbox_items",
                         "orcid_outbox_events", "orcid_record_sync"})
#: what ``db.create_all()`` makes, newest first: (revision, tables, (table, column) pairs that
#: revision added to existing tables), so ``flask orcid db stamp`` can name the revision of a
#: database made without migrations (sites before 0.2, test fixtures). A revision that adds a
#: table or a column adds an entry (a column-only revision is told apart by its columns); one
#: that only changes indexes must look before it acts, as such a database already has them.
_CREATE_ALL_SCHEMAS: tuple[tuple[str, frozenset[str], frozenset[tuple[str, str]]], ...] = (
    ("orcid_0009", BASE_TABLES | {"orcid_oauth_states", "orcid_rate_budget",
                                  "orcid_worker_heartbeats", "orcid_invitations",
                                  "orcid_permission_requests", "orcid_campaigns",
                                  "orcid_campaign_people"},
     frozenset({("orcid_outbox_items", "approval")})),
    ("orcid_0007", BASE_TABLES | {"orcid_oauth_states", "orcid_rate_budget",
                                  "orcid_worker_heartbeats", "orcid_invitations",
                                  "orcid_permission_requests"},
     frozenset({("orcid_outbox_items", "approval")})),
    ("orcid_0006", BASE_TABLES | {"orcid_oauth_states", "orcid_rate_budget",
                                  "orcid_worker_heartbeats", "orcid_invitations"},
     frozenset({("orcid_outbox_items", "approval")})),
    ("orcid_0005", BASE_TABLES | {"orcid_oauth_states", "orcid_rate_budget",
                                  "orcid_worker_heartbeats", "orcid_invitations"}, frozenset()),
    ("orcid_0004", BASE_TABLES | {"orcid_oauth_states", "orcid_rate_budget",
                                  "orcid_worker_heartbeats"}, frozenset()),
    ("orcid_0003", BASE_TABLES | {"orcid_oauth_states", "orcid_rate_budget"}, frozenset()),
    ("orcid_0002", BASE_TABLES | {"orcid_oauth_states"}, frozenset()),
    ("orcid_0001", BASE_TABLES, frozenset()),
)

Bind = Engine | Connection | str


class _StandaloneDB:
    """Just enough of Flask-SQLAlchemy's ``db`` for :func:`define_models` to define the
    tables on a metadata of their own (no app, no host tables)."""

    Column = sa.Column
    Integer = sa.Integer
    String = sa.String
    Text = sa.Text
    DateTime = sa.DateTime
    Boolean = sa.Boolean
    BigInteger = sa.BigInteger

    def __init__(self) -> None:
        self.Model = declarative_base()


@functools.cache
def model_metadata() -> sa.MetaData:
    """The ``orcid_*`` tables as :mod:`.models` defines them, on a metadata of their own:
    what ``head`` must build (autogenerate compares against it)."""
    db = _StandaloneDB()
    define_models(db)
    metadata: sa.MetaData = db.Model.metadata
    return metadata


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Autogenerate looks at the extension's tables only (never the host's, never the
    version table)."""
    if type_ == "table":
        return bool(name and name.startswith("orcid_") and name != VERSION_TABLE)
    table = getattr(obj, "table", None)
    return table is None or (table.name.startswith("orcid_") and table.name != VERSION_TABLE)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=model_metadata(),
        version_table=VERSION_TABLE,
        include_object=include_object,
        # SQLite alters a table by copying it: batch mode, in generated revisions too
        render_as_batch=True,
        compare_type=True,
    )


def run_migrations_online() -> None:
    """The body of ``migrations/env.py``: run Alembic on the connection :func:`_config`
    handed over (or on ``sqlalchemy.url`` when Alembic is run directly)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("flask-orcid's migrations need a connection or sqlalchemy.url")
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def _connection(bind: Bind) -> Iterator[Connection]:
    """A connection in a transaction, committed at the end (a caller's connection is used
    as it is: its transaction is the caller's)."""
    if isinstance(bind, Connection):
        yield bind
        return
    engine = sa.create_engine(bind, poolclass=NullPool) if isinstance(bind, str) else bind
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        if isinstance(bind, str):
            engine.dispose()


def upgrade(bind: Bind, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` (default: the newest)."""
    with _connection(bind) as conn:
        command.upgrade(_config(conn), revision)


def downgrade(bind: Bind, revision: str) -> None:
    """Undo migrations down to ``revision`` (``base`` drops every ``orcid_*`` table)."""
    with _connection(bind) as conn:
        command.downgrade(_config(conn), revision)


def stamp(bind: Bind, revision: str) -> None:
    """Record ``revision`` as the database's without running any migration."""
    with _connection(bind) as conn:
        command.stamp(_config(conn), revision)


def current(bind: Bind) -> str | None:
    """The revision the database is at, or None when it has no version row."""
    with _connection(bind) as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def head() -> str:
    """The newest revision shipped with this version of flask-orcid."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    if revision is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("flask-orcid ships no migrations")
    return revision


def unversioned_revision(bind: Bind) -> str | None:
    """For a database whose ``orcid_*`` tables were made by ``db.create_all()`` (no version
    row): the revision those tables match, to :func:`stamp`. None when the database has a
    version row or lacks the tables of flask-orcid 0.1.0."""
    with _connection(bind) as conn:
        if current(conn) is not None:
            return None
        inspector = sa.inspect(conn)
        tables = set(inspector.get_table_names())
        columns = {(t, c["name"]) for t in sorted(tables & BASE_TABLES)
                   for c in inspector.get_columns(t)}
    for revision, made, added in _CREATE_ALL_SCHEMAS:
        if made <= tables and added <= columns:
            return revision
    return None


def _next_revision_id() -> str:
    numbers = [int(m.group(1)) for p in VERSIONS_DIR.glob("orcid_*.py")
               if (m := re.match(r"orcid_(\d{4})_", p.name))]
    return f"orcid_{max(numbers, default=0) + 1:04d}"


def new_revision(message: str) -> Path:
    """Write a new revision for what changed in :mod:`.models` since ``head``: Alembic's
    autogenerate against a scratch SQLite database upgraded to ``head``. Review the file
    (autogenerate misses renames and server defaults), then commit it with the model change."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = sa.create_engine(f"sqlite:///{Path(scratch) / 'head.sqlite'}",
                                  poolclass=NullPool)
        try:
            upgrade(engine)
            with engine.begin() as conn:
                script = command.revision(_config(conn), message=message, autogenerate=True,
                                          rev_id=_next_revision_id())
        finally:
            engine.dispose()
    scripts = script if isinstance(script, list) else [script]
    return Path(scripts[0].path) if scripts and scripts[0] is not None else VERSIONS_DIR


def main(argv: list[str] | None = None) -> int:
    """``python -m flask_orcid.sync.migrate revision -m MESSAGE`` (contributors)."""
    parser = argparse.ArgumentParser(description="flask-orcid's own migrations")
    sub = parser.add_subparsers(dest="command", required=True)
    rev = sub.add_parser("revision", help="generate a revision for a change to models.py")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    path = new_revision(args.message)
    print(f"Wrote {path}; review it, then commit it with the model change.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The extension's own migrations (issue 10): ``orcid_*`` tables built and upgraded by Alembic
revisions shipped in the package, versioned in ``orcid_alembic_version``, on SQLite and
PostgreSQL (a fresh schema per test, dropped afterwards)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from example_repository.db import db as example_db
from flask_orcid.sync import migrate
from tests.outbox_support import NO_POSTGRES, ORCID_HEAD, POSTGRES_URL
from tests.plugins.app import db as host_db
from tests.schema_0_1_0 import metadata_0_1_0

ORCID_TABLES = {"orcid_accounts", "orcid_pending_revocations", "orcid_outbox_items",
                "orcid_outbox_events", "orcid_record_sync", "orcid_oauth_states",
                "orcid_rate_budget", "orcid_worker_heartbeats", "orcid_invitations",
                "orcid_permission_requests", "orcid_campaigns", "orcid_campaign_people"}
HEAD = ORCID_HEAD
NEXT = f"orcid_{int(HEAD.removeprefix('orcid_')) + 1:04d}"
ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 12, 0, 0)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        eng = sa.create_engine(f"sqlite:///{tmp_path / 'site.sqlite'}")
        yield eng
        eng.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    eng = sa.create_engine(POSTGRES_URL,
                           connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def differences(engine: sa.Engine, metadata: sa.MetaData) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match ``metadata``
    (``orcid_*`` tables only)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "include_object": migrate.include_object, "compare_type": True})
        return list(compare_metadata(ctx, metadata))


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_from_empty_builds_exactly_the_models(engine):
    migrate.upgrade(engine)
    assert tables(engine) == ORCID_TABLES | {"orcid_alembic_version"}
    assert migrate.current(engine) == migrate.head() == HEAD
    # the models as the extension defines them on a host's Flask-SQLAlchemy db, and on a
    # metadata of their own (what autogenerate compares against): nothing to change
    assert differences(engine, host_db.metadata) == []
    assert differences(engine, migrate.model_metadata()) == []
    assert set(migrate.model_metadata().tables) == ORCID_TABLES


def test_revision_0001_is_the_schema_of_0_1_0(engine):
    migrate.upgrade(engine, "orcid_0001")
    assert tables(engine) == set(migrate.BASE_TABLES) | {"orcid_alembic_version"}
    assert differences(engine, metadata_0_1_0()) == []


def _rows_of_a_0_1_0_site(conn: sa.Connection) -> None:
    """One row in every 0.1.0 table, as 0.1.0 wrote them."""
    conn.execute(sa.text(
        "INSERT INTO orcid_accounts (id, user_key, orcid, name, environment, scopes, "
        "access_token, refresh_token, expires_at, status, created_at, updated_at) VALUES "
        "(1, '7', '0000-0002-1825-0097', 'Josiah Carberry', 'sandbox', '/authenticate', "
        "'gAAAA-encrypted-access', 'gAAAA-encrypted-refresh', :now, 'active', :now, :now)"),
        {"now": NOW})
    conn.execute(sa.text(
        "INSERT INTO orcid_pending_revocations (id, orcid, environment, token, attempts, "
        "next_attempt_at, created_at) VALUES (1, '0000-0002-1825-0097', 'sandbox', "
        "'gAAAA-old-token', 2, :now, :now)"), {"now": NOW})
    conn.execute(sa.text(
        "INSERT INTO orcid_outbox_items (id, user_key, kind, key, payload, payload_hash, "
        "retracted, orcid, put_code, state, attempts, created_at, updated_at) VALUES "
        "(1, '7', 'work', 'thesis:42', '{\"title\": \"A thesis\"}', 'abc', :false, "
        "'0000-0002-1825-0097', 1234, 'synced', 1, :now, :now)"),
        {"now": NOW, "false": False})
    conn.execute(sa.text(
        "INSERT INTO orcid_outbox_events (id, item_id, user_key, operation, status, "
        "created_at) VALUES (1, 1, '7', 'POST', 201, :now)"), {"now": NOW})
    conn.execute(sa.text(
        "INSERT INTO orcid_record_sync (orcid, webhook_url, webhook_registered_at) VALUES "
        "('0000-0002-1825-0097', 'https://theses.example.edu/orcid/webhook', :now)"),
        {"now": NOW})


def _dump(engine: sa.Engine, names: set[str],
          like: dict[str, list[tuple[Any, ...]]] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``names``; with ``like``, only the columns ``like``'s rows had (later
    revisions add columns at the end of a table)."""
    metadata = sa.MetaData()
    metadata.reflect(engine, only=sorted(names))
    with engine.connect() as conn:
        rows = {name: [tuple(r) for r in conn.execute(sa.select(metadata.tables[name]))]
                for name in sorted(names)}
    if like is not None:
        rows = {name: [r[:len(like[name][0])] if like[name] else r for r in found]
                for name, found in rows.items()}
    return rows


def test_a_0_1_0_database_is_stamped_and_upgraded_with_its_rows(engine):
    metadata_0_1_0().create_all(engine)  # what db.create_all() made under 0.1.0
    with engine.begin() as conn:
        _rows_of_a_0_1_0_site(conn)
    before = _dump(engine, migrate.BASE_TABLES)
    assert migrate.current(engine) is None
    assert migrate.unversioned_revision(engine) == "orcid_0001"

    migrate.stamp(engine, "orcid_0001")
    assert migrate.current(engine) == "orcid_0001"
    assert migrate.unversioned_revision(engine) is None
    migrate.upgrade(engine)

    assert migrate.current(engine) == HEAD
    assert _dump(engine, migrate.BASE_TABLES, like=before) == before
    assert all(before.values())  # every table had its row
    assert differences(engine, migrate.model_metadata()) == []


def test_a_database_made_by_create_all_after_0_1_0_matches_the_head(engine):
    host_db.metadata.create_all(engine, tables=[
        t for name, t in host_db.metadata.tables.items() if name.startswith("orcid_")])
    assert migrate.unversioned_revision(engine) == HEAD
    migrate.stamp(engine, HEAD)
    migrate.upgrade(engine)  # nothing to do, and no complaint
    assert migrate.current(engine) == HEAD


def test_downgrade_removes_only_what_each_revision_added(engine):
    with engine.begin() as conn:  # the host's own tables and its own Alembic version
        conn.execute(sa.text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) "
                             "NOT NULL PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('host_rev_7')"))
    migrate.upgrade(engine)
    with engine.begin() as conn:
        _rows_of_a_0_1_0_site(conn)

    migrate.downgrade(engine, "orcid_0001")
    assert migrate.current(engine) == "orcid_0001"
    assert not (ORCID_TABLES - migrate.BASE_TABLES) & tables(engine)
    assert _dump(engine, {"orcid_accounts"})["orcid_accounts"][0][2] == "0000-0002-1825-0097"

    migrate.downgrade(engine, "base")
    assert migrate.current(engine) is None
    assert tables(engine) == {"users", "alembic_version", "orcid_alembic_version"}
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == "host_rev_7"

    migrate.upgrade(engine)  # and back up again
    assert tables(engine) >= ORCID_TABLES


HOST_ENV = '''
from alembic import context

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
'''

HOST_REVISION = '''
import sqlalchemy as sa
from alembic import op

revision = "host_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("users")
'''


def _host_chain(tmp_path: Path) -> Config:
    """A host's Alembic setup (what Flask-Migrate makes) with the extension's versions folder
    added to ``version_locations``, as the integration guide shows."""
    (tmp_path / "host" / "versions").mkdir(parents=True)
    (tmp_path / "host" / "env.py").write_text(HOST_ENV)
    (tmp_path / "host" / "versions" / "host_0001.py").write_text(HOST_REVISION)
    config = Config()
    config.set_main_option("script_location", str(tmp_path / "host"))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(
        [str(tmp_path / "host" / "versions"), str(migrate.VERSIONS_DIR)]))
    return config


def _host_command(config: Config, engine: sa.Engine, name: str, revision: str) -> set[str]:
    """Run one Alembic command of the host's; the host's ``alembic_version`` rows after it."""
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, name)(config, revision)
        return set(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))


def test_a_host_chain_can_carry_the_extension_revisions(tmp_path, engine):
    """A Flask-Migrate host upgrades ``heads``: the extension's revisions then live in the
    host's ``alembic_version``, on a branch labelled ``orcid``."""
    config = _host_chain(tmp_path)
    assert _host_command(config, engine, "upgrade", "heads") == {"host_0001", HEAD}
    assert tables(engine) == ORCID_TABLES | {"users", "alembic_version"}
    assert differences(engine, migrate.model_metadata()) == []
    assert _host_command(config, engine, "downgrade", "orcid@base") == {"host_0001"}
    assert tables(engine) == {"users", "alembic_version"}


def test_a_site_moves_its_orcid_revisions_into_the_host_chain(tmp_path, engine):
    config = _host_chain(tmp_path)
    _host_command(config, engine, "upgrade", "host_0001")
    migrate.upgrade(engine)  # until now: flask orcid db upgrade, orcid_alembic_version
    assert _host_command(config, engine, "stamp", HEAD) == {"host_0001", HEAD}
    assert _host_command(config, engine, "upgrade", "heads") == {"host_0001", HEAD}


NO_EMULATOR = {"ORCID_EMULATOR_URL": "http://127.0.0.1:9", "ORCID_CLIENT_ID": "APP-TEST0000000001",
               "ORCID_CLIENT_SECRET": "secret"}


def test_flask_orcid_db_commands(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite'}",
                   **NO_EMULATOR)
    runner = app.test_cli_runner()
    with app.app_context():
        host_db.drop_all()  # an empty database: the host has not made any table yet
    result = runner.invoke(args=["orcid", "db", "current"])
    assert result.exit_code == 0 and result.output.startswith("none")

    result = runner.invoke(args=["orcid", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"{HEAD} (head)" in result.output
    result = runner.invoke(args=["orcid", "db", "current"])
    assert result.output == f"{HEAD} (head)\n"

    result = runner.invoke(args=["orcid", "db", "downgrade", "orcid_0001"])
    assert result.exit_code == 0 and "orcid_0001" in result.output
    with app.app_context():
        assert "orcid_oauth_states" not in tables(host_db.engine)
    assert runner.invoke(args=["orcid", "db", "current"]).output == "orcid_0001\n"
    assert runner.invoke(args=["orcid", "db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["orcid", "db", "current"]).output == f"{HEAD} (head)\n"

    result = runner.invoke(args=["orcid", "db", "downgrade", "base"])
    assert result.exit_code == 0
    assert runner.invoke(args=["orcid", "db", "current"]).output.startswith("none")
    with app.app_context():
        assert not tables(host_db.engine) & ORCID_TABLES


def test_a_create_all_database_is_stamped_from_the_command_line(make_app, tmp_path):
    # make_app made the orcid_* tables with db.create_all(), as every site did before 10
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite'}",
                   **NO_EMULATOR)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["orcid", "db", "upgrade"])
    assert result.exit_code != 0
    assert f"flask orcid db stamp {HEAD}" in result.output  # says what to do

    result = runner.invoke(args=["orcid", "db", "stamp"])  # the revision the tables match
    assert result.exit_code == 0, result.output
    assert f"stamped at revision {HEAD}" in result.output
    assert runner.invoke(args=["orcid", "db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["orcid", "db", "stamp"])
    assert result.exit_code != 0 and "Nothing to stamp" in result.output


def test_the_sample_repository_builds_the_orcid_tables_by_migrations(make_repo):
    app = make_repo()
    with app.app_context():
        engine = example_db.engine
        assert migrate.current(engine) == migrate.head()
        assert differences(engine, migrate.model_metadata()) == []


@pytest.mark.parametrize("made_by", ["0.1.0", "create_all after 0.1.0"])
def test_an_existing_demo_database_is_stamped_and_upgraded(make_repo, tmp_path, made_by):
    """``make demo`` on an ``instance/`` made by an earlier version: every table came from
    ``create_all`` and there is no version row; the demo stamps and upgrades it, rows kept."""
    path = tmp_path / "old-demo.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    own = [t for name, t in example_db.metadata.tables.items() if not name.startswith("orcid_")]
    example_db.metadata.create_all(engine, tables=own)
    if made_by == "0.1.0":
        metadata_0_1_0().create_all(engine)
    else:
        host_db.metadata.create_all(engine, tables=[
            t for name, t in host_db.metadata.tables.items() if name.startswith("orcid_")])
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (id, email, password_hash, given_names, "
                             "family_name, is_admin, locale, created_at, session_generation) "
                             "VALUES (7, 'josiah@example.edu', 'x', 'Josiah', 'Carberry', "
                             ":false, 'en', :now, 0)"), {"now": NOW, "false": False})
        _rows_of_a_0_1_0_site(conn)
    before = _dump(engine, migrate.BASE_TABLES | {"users"})
    engine.dispose()

    app = make_repo(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        assert migrate.current(example_db.engine) == migrate.head()
        assert _dump(example_db.engine, migrate.BASE_TABLES | {"users"}, like=before) == before
        assert differences(example_db.engine, migrate.model_metadata()) == []


def test_a_contributor_generates_the_revision_for_a_model_change(tmp_path, monkeypatch):
    """README, "Changing a table": ``python -m flask_orcid.sync.migrate revision -m ...``
    writes the next revision from the difference between the models and the head."""
    migrations = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, migrations,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations)
    monkeypatch.setattr(migrate, "VERSIONS_DIR", migrations / "versions")
    changed = sa.MetaData()  # the models, with a new nullable column
    for table in migrate.model_metadata().tables.values():
        table.to_metadata(changed)
    changed.tables["orcid_accounts"].append_column(sa.Column("nickname", sa.String(64)))
    monkeypatch.setattr(migrate, "model_metadata", lambda: changed)

    assert migrate.main(["revision", "-m", "Account nickname"]) == 0
    (written,) = (migrations / "versions").glob(f"{NEXT}_*.py")
    text = written.read_text()
    assert f"revision: str = '{NEXT}'" in text
    assert f"down_revision: str | None = '{HEAD}'" in text
    assert "add_column(sa.Column('nickname', sa.String(length=64), nullable=True))" in text
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                           "--config", str(ROOT / "ruff.toml"), str(written)],
                          capture_output=True, text=True, cwd=ROOT)
    assert lint.returncode == 0, lint.stdout

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'site.sqlite'}")
    migrate.upgrade(engine)
    assert migrate.current(engine) == NEXT
    assert differences(engine, changed) == []
    migrate.downgrade(engine, HEAD)
    assert "nickname" not in {c["name"] for c in sa.inspect(engine).get_columns("orcid_accounts")}
    engine.dispose()


def test_0006_adds_the_researchers_decision_and_its_downgrade_sends_nothing(engine):
    """orcid_0006 (issue 15, item 3): the outbox rows get ``approval`` / ``approval_at``; the
    rows keep their data. A downgrade leaves no row in a state the older code does not know:
    waiting and declined rows are parked (never sent by themselves)."""
    migrate.upgrade(engine, "orcid_0004")
    with engine.begin() as conn:
        _rows_of_a_0_1_0_site(conn)
    before = _dump(engine, {"orcid_outbox_items"})
    migrate.upgrade(engine)
    assert migrate.current(engine) == HEAD
    assert _dump(engine, {"orcid_outbox_items"}, like=before) == before
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT approval FROM orcid_outbox_items")).all() == [(None,)]
        conn.execute(sa.text("UPDATE orcid_outbox_items SET state = 'declined', "
                             "approval = 'declined', put_code = NULL"))
    assert differences(engine, migrate.model_metadata()) == []
    migrate.downgrade(engine, "orcid_0004")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT state FROM orcid_outbox_items")).all() == [("parked",)]
    assert "approval" not in {c["name"] for c in sa.inspect(engine).get_columns(
        "orcid_outbox_items")}

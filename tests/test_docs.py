"""The configuration reference and the README stay in step with the code."""

from __future__ import annotations

from pathlib import Path

from flask_orcid.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent


def test_every_orcid_setting_is_documented():
    reference = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [key for key in DEFAULTS if f"`{key}`" not in reference]
    assert not missing, f"docs/configuration.md does not describe {missing}"


def test_every_cli_command_is_documented(app):
    guide = (ROOT / "docs" / "integration-guide.md").read_text(encoding="utf-8")
    group = app.cli.commands["orcid"]
    missing = [name for name in group.commands if f"orcid {name}" not in guide]
    assert not missing, f"docs/integration-guide.md does not mention flask orcid {missing}"


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_production_server_and_migrations_are_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = (ROOT / "docs" / "integration-guide.md").read_text(encoding="utf-8")
    # a production WSGI server, with the worker command beside it
    assert "gunicorn 'example_repository:create_app()'" in readme
    assert "orcid deliver --loop" in readme
    assert "gunicorn" in guide and "orcid deliver --loop" in guide
    # every table change ships a migration; a Flask-Migrate host may chain the revisions
    assert "## Changing a table" in readme and "flask_orcid.sync.migrate revision" in readme
    assert "## 12. Database migrations" in guide
    assert "version_locations" in guide and "orcid@head" in guide

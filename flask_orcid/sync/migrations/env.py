"""Alembic's ``env.py`` for flask-orcid's own migrations.

Alembic runs this file; :func:`flask_orcid.sync.migrate.run_migrations_online` does the work:
the connection :mod:`flask_orcid.sync.migrate` hands over, the version table
``orcid_alembic_version``, and autogenerate limited to the ``orcid_*`` tables.
"""

from flask_orcid.sync.migrate import run_migrations_online

run_migrations_online()

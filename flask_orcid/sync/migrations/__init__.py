"""Alembic's environment for the ``orcid_*`` tables (run through :mod:`flask_orcid.sync.migrate`;
never imported)."""

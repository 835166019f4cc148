"""The revisions of the ``orcid_*`` tables, oldest first: ``orcid_0001`` is flask-orcid 0.1.0.

Every change to a table in :mod:`flask_orcid.sync.models` ships a revision here (see the README,
"Changing a table").
"""

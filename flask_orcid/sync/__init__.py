"""The synchronization engine: storage and everything that runs without a request.

Uses SQLAlchemy and :mod:`flask_orcid.protocol`; never imports the Flask layer. Modules:
``models`` (every ``orcid_*`` table), ``connections`` (tokens, revocations, a refused token),
``outbox`` (publish, retract, resend), ``claim`` / ``converge`` / ``results`` / ``worker``
(delivery), ``reconcile`` (re-reading records), ``webhooks``, ``record_reader`` (prefill reads).
"""

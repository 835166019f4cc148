"""The synchronization engine: storage and everything that runs without a request.

Uses SQLAlchemy and :mod:`flask_orcid.protocol`; never imports the Flask layer. Modules:
``states`` (what a connection or a row can be), ``mixins`` (what the rows do), ``models``
(every ``orcid_*`` table), ``sql`` (shared SQL helpers), ``connections`` (tokens,
revocations, a refused token), ``outbox`` (publish, retract, resend), ``claim`` /
``converge`` / ``results`` / ``worker`` (delivery), ``reconcile`` (re-reading records),
``webhooks``, ``record_reader`` (prefill reads).
"""

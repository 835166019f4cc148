"""Speaking ORCID: endpoints, identifiers, vocabularies, the item and record model, validation,
XML, the HTTP client, rate limiting and OpenID verification.

Imports no Flask, Werkzeug, Jinja, SQLAlchemy, WTForms or Babel: usable from any Python code.
"""

"""Emulator fixtures of the project's own suite: thin aliases of the pytest plugin that
flask-orcid ships for host applications (:mod:`flask_orcid.testing`, entry point
``pytest11: flask_orcid``), so there is one set of fixtures.

``emulator_server`` is the plugin's session server (configured here through
``orcid_emulator_config``), ``emulator`` its reset handle. ``orcid_schemas`` is the suite's own.
"""

from __future__ import annotations

from typing import Any

import pytest

from flask_orcid.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorHandle, EmulatorServer

__all__ = ["DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET", "EmulatorHandle", "EmulatorServer"]


@pytest.fixture(scope="session")
def orcid_emulator_config() -> dict[str, Any]:
    """Webhook retries fast enough for the suite."""
    return {"EMULATOR_WEBHOOK_RETRY_DELAY": 0.2, "EMULATOR_WEBHOOK_MAX_ATTEMPTS": 3}


@pytest.fixture(scope="session")
def emulator_server(orcid_emulator_server: EmulatorServer) -> EmulatorServer:
    """The plugin's emulator server (a real threaded emulator on 127.0.0.1, a free port)."""
    return orcid_emulator_server


@pytest.fixture
def emulator(orcid_emulator: EmulatorHandle) -> EmulatorHandle:
    """The plugin's handle, reset to the seed state (records, tokens, faults, limits, counters)."""
    return orcid_emulator


class ORCIDSchemas:
    """ORCID's official v3.0 XSDs, picked by the document's root namespace (test-side only)."""

    FILES = {
        "work": "record_3.0/work-3.0.xsd",
        "bulk": "record_3.0/bulk-3.0.xsd",
        "activities": "record_3.0/activities-3.0.xsd",
        "record": "record_3.0/record-3.0.xsd",
        "person": "record_3.0/person-3.0.xsd",
        "error": "record_3.0/error-3.0.xsd",
        "education": "record_3.0/education-3.0.xsd",
        "employment": "record_3.0/employment-3.0.xsd",
        "qualification": "record_3.0/qualification-3.0.xsd",
        "distinction": "record_3.0/distinction-3.0.xsd",
        "invited-position": "record_3.0/invited-position-3.0.xsd",
        "membership": "record_3.0/membership-3.0.xsd",
        "service": "record_3.0/service-3.0.xsd",
        "search": "record_3.0/search-3.0.xsd",
        "expanded-search": "record_3.0/expanded-search-3.0.xsd",
        "summary": "summary_3.0/summary-3.0.xsd",
        "notification": "notification_3.0/notification-permission-3.0.xsd",
    }

    def __init__(self, model_dir: Any):
        self.model_dir = model_dir
        self._cache: dict[str, Any] = {}

    def schema(self, kind: str) -> Any:
        from lxml import etree

        if kind not in self._cache:
            self._cache[kind] = etree.XMLSchema(etree.parse(str(self.model_dir / self.FILES[kind])))
        return self._cache[kind]

    def validate(self, document: bytes) -> Any:
        """Parse ``document`` and assert it is valid; returns the root element."""
        from lxml import etree

        root = etree.fromstring(document, etree.XMLParser(resolve_entities=False,
                                                          no_network=True))
        namespace = etree.QName(root).namespace or ""
        kind = namespace.rsplit("/", 1)[-1]
        schema = self.schema(kind)
        if not schema.validate(root):
            errors = "; ".join(str(e) for e in list(schema.error_log)[:5])
            raise AssertionError(f"{kind} document is not valid against the XSD: {errors}")
        return root


@pytest.fixture(scope="session")
def orcid_schemas(orcid_model_dir: Any) -> ORCIDSchemas:
    """``orcid_schemas.validate(xml_bytes)`` checks a v3.0 document against ORCID's XSD."""
    return ORCIDSchemas(orcid_model_dir)

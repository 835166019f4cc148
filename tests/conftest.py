"""Shared fixtures. Feature fixtures live in tests/plugins/, one module per area."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flask_orcid.config import DEFAULTS as ORCID_DEFAULTS

pytest_plugins = [
    "tests.plugins.emulator",
    "tests.plugins.app",
    "tests.plugins.example",
    "tests.plugins.mail",
    "tests.plugins.invitations",
    "tests.campaign_support",
]

ROOT = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path:
    env = os.environ.get("FLASK_ORCID_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


SHARED = _shared_dir()
ORCID_MODEL = SHARED / "orcid" / "orcid-model"


@pytest.fixture(scope="session")
def orcid_model_dir() -> Path:
    """ORCID's official v3.0 schemas and samples, read from ../shared (never copied here)."""
    if not (ORCID_MODEL / "record_3.0" / "work-3.0.xsd").is_file():
        pytest.skip(f"ORCID's schemas are not available: {ORCID_MODEL} is absent")
    return ORCID_MODEL


@pytest.fixture(scope="session")
def orcid_examples_dir() -> Path:
    path = SHARED / "orcid" / "examples"
    if not path.is_dir():
        pytest.skip(f"the project's ORCID examples are not available: {path} is absent")
    return path


@pytest.fixture(autouse=True)
def _no_reachability_check_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most test apps point at an ORCID that is not there (orcid.org, a closed port) and only
    look at where /orcid/connect redirects: the check that ORCID answers first is off unless a
    test turns it on with ORCID_REACHABILITY_SECONDS (tests/test_signin_flow.py, the browser
    suite)."""
    monkeypatch.setitem(ORCID_DEFAULTS, "ORCID_REACHABILITY_SECONDS", 0)

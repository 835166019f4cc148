"""The pytest plugin host applications get with flask-orcid (issue 10): registered through the
``pytest11`` entry point, so a project with no conftest at all has ``orcid_emulator``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

HOST_TEST = '''
from urllib.parse import urlencode

import pytest
import requests


def test_one(orcid_emulator):
    ada = orcid_emulator.new_researcher(given_names="Ada", family_name="Lovelace",
                                        email="ada@example.edu", password="pw-ada-1")
    query = urlencode({"client_id": orcid_emulator.client_id, "response_type": "code",
                       "scope": "/authenticate", "redirect_uri": "http://127.0.0.1:9/cb"})
    callback = orcid_emulator.authorize(f"{orcid_emulator.url}/oauth/authorize?{query}", ada)
    assert callback.startswith("http://127.0.0.1:9/cb?code=")
    orcid_emulator.fault(method="GET", path="/v3.0/.*", status=503, count=5)


def test_two_starts_from_the_seed(orcid_emulator):
    with pytest.raises(KeyError):
        orcid_emulator.researcher("ada@example.edu")
    assert orcid_emulator.requests() is not None
    faults = requests.get(orcid_emulator.url + "/_emulator/faults", timeout=5).json()
    assert all(f["count"] == 0 for f in faults)  # the reset dropped test_one's fault
'''


def test_a_host_project_without_conftest_gets_orcid_emulator(tmp_path: Path):
    (tmp_path / "test_host.py").write_text(HOST_TEST, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--trace-config",
         "test_host.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout
    # the entry point loads the installed package's plugin, by its own name
    registered = [line for line in result.stdout.splitlines()
                  if "PLUGIN registered" in line and "flask_orcid.testing" in line]
    assert registered, result.stdout[:3000]
    plugin_file = Path(__file__).resolve().parent.parent / "flask_orcid" / "testing.py"
    assert str(plugin_file) in registered[0]


def test_the_suite_uses_the_plugins_fixtures(emulator, orcid_emulator):
    """One set of fixtures: the suite's ``emulator`` is the plugin's ``orcid_emulator``."""
    assert emulator is orcid_emulator
    query = urlencode({"client_id": emulator.client_id, "response_type": "code",
                       "scope": "/authenticate", "redirect_uri": "http://127.0.0.1:9/cb",
                       "state": "s-1"})
    callback = emulator.authorize(f"{emulator.url}/oauth/authorize?{query}",
                                  "josiah@example.edu", approve=False)
    assert parse_qs(urlsplit(callback).query)["error"] == ["access_denied"]
    emulator.fault(method="GET", path="/oauth/jwks", status=503, count=1)
    assert requests.get(f"{emulator.url}/oauth/jwks", timeout=5).status_code == 503
    emulator.clear_faults()
    assert requests.get(f"{emulator.url}/oauth/jwks", timeout=5).status_code == 200

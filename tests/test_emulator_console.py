"""The researcher console, the /_emulator/ inspection endpoints, persistence and the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests

from flask_orcid.emulator import create_app
from flask_orcid.emulator.state import orcid_is_valid
from tests.test_emulator_api import user_token

CARBERRY = "0000-0002-1825-0097"
ROOT = Path(__file__).resolve().parent.parent


def sign_in(emulator, browser: requests.Session, email: str, password: str) -> str:
    page = browser.get(f"{emulator.url}/signin", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = browser.post(f"{emulator.url}/signin", timeout=10, data={
        "csrf_token": csrf, "next_query": "", "username": email, "password": password})
    assert response.url.endswith("/console")
    return response.text


def console_delete_url(emulator, section: str, put_code) -> str:
    return f"{emulator.url}/console/{section}/{put_code}/delete"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_seeded_researchers(emulator):
    people = {r["email"]: r for r in emulator.researchers}
    assert people["josiah@example.edu"]["orcid"] == CARBERRY
    assert people["josiah@example.edu"]["password"] == "carberry-1"
    maria = people["maria@example.edu"]
    assert (maria["given_names"], maria["family_name"]) == ("María José", "García Núñez")
    assert maria["password"] == "garcia-1" and maria["locale"] == "es"
    kwame = people["kwame@example.org"]
    assert kwame["emails"][0]["verified"] is False
    assert kwame["emails"][0]["visibility"] == "limited"
    for person in emulator.researchers:
        assert orcid_is_valid(person["orcid"])
        record = emulator.record(person["orcid"])
        assert any(w["source_client_id"] != emulator.client_id for w in record["works"])
    record = emulator.record(CARBERRY)
    assert record["educations"][0]["organization"]["disambiguation_source"] == "ROR"
    assert record["employments"][0]["organization"]["disambiguated_id"].startswith(
        "https://ror.org/")


def test_inspection_lists_tokens_without_values(emulator):
    token = user_token(emulator)
    rows = emulator.tokens(orcid=CARBERRY)
    assert rows == [{"id": rows[0]["id"], "client_id": emulator.client_id, "orcid": CARBERRY,
                     "scopes": ["/activities/update", "/read-limited"], "status": "active",
                     "grant_type": "authorization_code"}]
    assert token not in requests.get(f"{emulator.url}/_emulator/tokens", timeout=10).text


def test_created_researcher_and_client_can_complete_the_flow(emulator):
    person = emulator.new_researcher(given_names="Zoë", family_name="Lefèvre",
                                     email="zoe@example.fr", password="lefevre-1")
    assert orcid_is_valid(person["orcid"])
    client = emulator.new_client("Second repository", ["http://127.0.0.1:*"])
    assert re.fullmatch(r"APP-[0-9A-Z]{16}", client["client_id"])
    assert user_token(emulator, "zoe@example.fr", "lefevre-1", client=client)
    assert emulator.tokens(client_id=client["client_id"])[0]["orcid"] == person["orcid"]


def test_console_shows_the_record_and_deletes_an_item(emulator):
    with requests.Session() as browser:
        page = sign_in(emulator, browser, "josiah@example.edu", "carberry-1")
        assert "The Psychoceramics of Cracked Pots" in page
        assert "Brown University" in page
        work = emulator.record(CARBERRY)["works"][0]
        response = browser.post(console_delete_url(emulator, "work", work["put_code"]),
                                data={"csrf_token": _csrf(page)}, timeout=10)
        assert response.status_code == 200
    assert work["put_code"] not in [w["put_code"] for w in emulator.record(CARBERRY)["works"]]


def test_console_revokes_a_trusted_organization(emulator):
    token = user_token(emulator)
    with requests.Session() as browser:
        page = sign_in(emulator, browser, "josiah@example.edu", "carberry-1")
        assert "Demo Thesis Repository" in page
        browser.post(f"{emulator.url}/console/revoke/{emulator.client_id}",
                     data={"csrf_token": _csrf(page)}, timeout=10)
        assert "Demo Thesis Repository" not in browser.get(f"{emulator.url}/console",
                                                           timeout=10).text
    assert [t["status"] for t in emulator.tokens(orcid=CARBERRY)] == ["user_revoked"]
    response = requests.get(f"{emulator.url}/v3.0/{CARBERRY}/record", timeout=10,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_console_refuses_a_forged_delete(emulator):
    with requests.Session() as browser:
        sign_in(emulator, browser, "josiah@example.edu", "carberry-1")
        work = emulator.record(CARBERRY)["works"][0]
        response = browser.post(console_delete_url(emulator, "work", work["put_code"]),
                                data={"csrf_token": "forged"}, timeout=10)
    assert response.status_code == 400
    assert work["put_code"] in [w["put_code"] for w in emulator.record(CARBERRY)["works"]]


def test_console_in_spanish(emulator):
    with requests.Session() as browser:
        browser.get(f"{emulator.url}/signin?lang=es", timeout=10)
        page = sign_in(emulator, browser, "maria@example.edu", "garcia-1")
    assert "Su registro ORCID" in page
    assert "María José García Núñez" in page


def test_names_are_escaped_in_pages(emulator):
    emulator.new_researcher(given_names="<script>alert(1)</script>", family_name="X",
                            email="xss@example.org", password="xss-pass-1")
    with requests.Session() as browser:
        page = sign_in(emulator, browser, "xss@example.org", "xss-pass-1")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_state_survives_a_restart_with_a_database(tmp_path):
    db = str(tmp_path / "emulator.db")
    first = create_app({"EMULATOR_DB": db}).test_client()
    created = first.post("/_emulator/researchers", json={
        "given_names": "Persistent", "family_name": "Person", "email": "p@example.org",
        "password": "persist-1"}).get_json()
    second = create_app({"EMULATOR_DB": db}).test_client()
    people = second.get("/_emulator/researchers").get_json()
    assert created["orcid"] in [p["orcid"] for p in people]
    assert second.get(f"/v3.0/{created['orcid']}/person").status_code == 200


def test_cli_help_lists_the_options():
    result = subprocess.run([sys.executable, "-m", "flask_orcid.emulator", "--help"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0
    for option in ("--host", "--port", "--db", "--rate", "--burst", "--latency-ms",
                   "--webhook-delay", "--quiet"):
        assert option in result.stdout


def test_cli_prints_url_client_and_researchers():
    process = subprocess.Popen(
        [sys.executable, "-m", "flask_orcid.emulator", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("  state:"):
                break
        banner = "".join(lines)
        url = re.search(r"running on (http://127\.0\.0\.1:\d+)", banner).group(1)
        assert "APP-DEMO000000000001 / demo-secret-0001" in banner
        assert "carberry-1" in banner and "garcia-1" in banner
        assert requests.get(f"{url}/_emulator/researchers", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_registry_pages_follow_accept_language_then_lang(emulator):
    """ORCID's registry: ``lang`` wins and is remembered; else the browser's Accept-Language."""
    spanish = {"Accept-Language": "es-AR,es;q=0.9,en;q=0.5"}
    with requests.Session() as browser:
        assert "Inicie sesión en ORCID" in browser.get(f"{emulator.url}/signin", headers=spanish, timeout=10).text
        page = browser.get(f"{emulator.url}/signin?lang=en", headers=spanish, timeout=10).text
        assert "Sign in to ORCID" in page and '<html lang="en">' in page
        assert "Sign in to ORCID" in browser.get(f"{emulator.url}/signin", headers=spanish, timeout=10).text
    with requests.Session() as browser:
        page = browser.get(f"{emulator.url}/signin", headers={"Accept-Language": "fr, de"}, timeout=10).text
        assert "Sign in to ORCID" in page

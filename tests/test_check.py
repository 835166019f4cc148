"""The integration check (issue 16, item 5): ``flask orcid check`` against the sample
repository and the emulator. It passes on the sample as shipped, and fails with the right
reason when one point is broken on purpose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader

from tests.test_example_workflow import accept, submit_thesis, theses

#: A typed-in advisor iD (valid checksum) that nobody authenticated.
ADVISOR_ID = "0000-0002-1694-233X"
POINT_IDS = ["benefit-text", "redirect-https", "minimal-scopes", "state-single-use", "deny-path",
             "tokens-encrypted", "token-reuse", "prefill", "put-code-updates", "api-version",
             "id-display", "exports", "support-contact", "disconnect-revokes"]


@pytest.fixture
def sample(make_repo, make_person, emulator) -> Any:
    """Factory: the sample repository against the emulator, with one published thesis whose
    author connected an iD and whose advisor's iD was typed in."""

    def make(**config: Any) -> Flask:
        repo = make_repo(with_emulator=True, **config)
        student = make_person(repo)
        connected = emulator.authorize(student.client, "josiah@example.edu", next="/my")
        assert connected.status_code == 302, connected.get_data(as_text=True)
        assert submit_thesis(student, **{"advisors-0-orcid": ADVISOR_ID}).status_code == 302
        admin = make_person(repo, email="admin@example.edu", admin=True)
        [thesis] = theses(repo)
        accept(admin, thesis.id)
        return repo

    return make


def check(repo: Flask, *args: str) -> tuple[int, dict[str, Any]]:
    """``flask orcid check --json``: the exit code and the answers by point."""
    result = repo.test_cli_runner().invoke(args=["orcid", "check", "--json",
                                                                 *args])
    data = json.loads(result.stdout)
    return result.exit_code, data


def by_point(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in data["points"]}


def test_the_sample_passes_every_point_against_the_emulator(sample, emulator):
    repo = sample()
    code, data = check(repo)
    points = by_point(data)
    assert list(points) == POINT_IDS
    failed = {k: v["reason"] for k, v in points.items() if v["status"] != "pass"}
    assert failed == {}
    assert code == 0 and data["passed"] is True
    assert "Deny on the emulator's consent screen" in points["deny-path"]["reason"]
    assert "PUT /v3.0/" in points["put-code-updates"]["reason"]
    assert "1 unauthenticated iD(s) shown without the icon" in points["id-display"]["reason"]
    # the check cleans up: the test researcher's record holds nothing of ours, its token is
    # revoked, and the test account has no connection
    everyone = requests.get(f"{emulator.url}/_emulator/researchers", timeout=10).json()
    [researcher] = [r for r in everyone if r["email"].startswith("orcid-check-")]
    assert emulator.record(researcher["orcid"])["works"] == []
    assert {t["status"] for t in emulator.tokens(orcid=researcher["orcid"])} <= {"revoked"}


def _override(repo: Flask, name: str, text: str) -> None:
    """Serve ``text`` as the template ``name`` (a site that changed one page)."""
    repo.jinja_env.loader = ChoiceLoader([DictLoader({name: text}), repo.jinja_env.loader])
    repo.jinja_env.cache = {}


def _broken(data: dict[str, Any]) -> dict[str, str]:
    return {k: v["reason"] for k, v in by_point(data).items() if v["status"] == "fail"}


def test_without_the_benefit_text_the_connect_page_fails(sample):
    repo = sample()
    _override(repo, "student/orcid_step.html", """{% extends "base.html" %}
{% block content %}<section class="card" data-orcid-benefits><h1>ORCID</h1>
{{ orcid_ui.connect_button(next=url_for('student.new_thesis')) }}</section>{% endblock %}""")
    code, data = check(repo)
    assert code == 1 and data["passed"] is False
    assert list(_broken(data)) == ["benefit-text"]
    assert "has 1 ORCID-branded connect button(s) and 5 word(s) explaining ORCID" in \
        _broken(data)["benefit-text"]


def test_a_disconnect_that_does_not_revoke_fails(sample, monkeypatch):
    from example_repository.orcid_setup import orcid

    repo = sample()

    def forget_only(user_key: str) -> str | None:
        """A naive disconnect: the local row goes, the token stays valid at ORCID."""
        account = orcid.get_account(user_key)
        orcid.db.session.delete(account)
        orcid.db.session.commit()
        return account.orcid

    monkeypatch.setattr(orcid, "disconnect", forget_only)
    code, data = check(repo)
    assert code == 1
    assert list(_broken(data)) == ["disconnect-revokes"]
    assert "ORCID answers HTTP 200 to the old token (401 expected)" in \
        _broken(data)["disconnect-revokes"]


def test_a_plain_http_redirect_uri_fails_outside_the_emulator(make_repo, make_person):
    repo = make_repo(ORCID_ENVIRONMENT="sandbox", ORCID_CLIENT_ID="APP-SANDBOX000000001",
                     ORCID_CLIENT_SECRET="sandbox-secret")
    code, data = check(repo)
    points = by_point(data)
    assert code == 1
    assert points["redirect-https"]["status"] == "fail"
    assert points["redirect-https"]["reason"].startswith(
        "The redirect URI http://localhost/orcid/callback is not HTTPS")
    # ORCID's real screens need a person: those points are for the reviewer, not failures
    assert {k for k, v in points.items() if v["status"] == "manual"} == {
        "tokens-encrypted", "token-reuse", "prefill", "put-code-updates", "disconnect-revokes"}
    # the denial is the one ORCID sends, and the site answers it properly
    assert points["deny-path"]["status"] == "pass"
    assert "the check sent the answer ORCID sends after a denial" in points["deny-path"]["reason"]
    assert points["state-single-use"]["status"] == "pass"
    # served over HTTPS, the same site builds an HTTPS redirect URI
    _code, data = check(repo, "--base-url", "https://localhost")
    assert by_point(data)["redirect-https"] == {
        **by_point(data)["redirect-https"], "status": "pass",
        "reason": "The redirect URI is https://localhost/orcid/callback."}


def test_a_wide_scope_fails(sample):
    repo = sample(ORCID_SCOPES="/authenticate /read-limited /activities/update /person/update")
    code, data = check(repo)
    assert code == 1
    assert list(_broken(data)) == ["minimal-scopes"]
    assert _broken(data)["minimal-scopes"].startswith(
        "The site asks for /person/update beyond what a thesis repository needs")


def test_the_id_icon_on_a_typed_in_id_fails(sample):
    repo = sample()
    # the landing page shows the people on a thesis through the sample's _people.html macros
    people = (Path(repo.template_folder) / "_people.html").read_text()
    typed = "orcid_ui.orcid_id_compact(p.orcid, authenticated=p.orcid_authenticated)"
    assert typed in people
    _override(repo, "_people.html", people.replace(typed, "orcid_ui.orcid_id_compact(p.orcid)"))
    code, data = check(repo)
    assert code == 1
    assert list(_broken(data)) == ["id-display"]
    assert f"{ADVISOR_ID} is not authenticated but carries the iD icon on " \
           "http://localhost/theses/1" in _broken(data)["id-display"]


def test_an_unauthenticated_id_asserted_in_json_ld_fails(sample, monkeypatch):
    from example_repository import metadata

    repo = sample()
    plain = metadata.json_ld

    def naive(thesis, *args):  # noqa: ANN001, ANN202 - the sample's own signature
        doc = plain(thesis, *args)
        doc["contributor"] = [{"@type": "Person", "name": a.name,
                               "@id": f"https://orcid.org/{a.orcid}"} for a in thesis.advisors]
        return doc

    monkeypatch.setattr(metadata, "json_ld", naive)
    code, data = check(repo)
    assert code == 1
    assert list(_broken(data)) == ["exports"]
    assert _broken(data)["exports"] == (f"{ADVISOR_ID} in http://localhost/theses/1/metadata."
                                        "jsonld is not authenticated and not flagged as such.")


def test_without_a_support_contact_the_error_pages_fail(sample, monkeypatch, tmp_path):
    # not beside a running `make demo`, whose instance folder would lend its address
    monkeypatch.setenv("REPOSITORY_INSTANCE_PATH", str(tmp_path / "instance"))
    repo = sample(ORCID_SUPPORT_EMAIL=None)
    code, data = check(repo)
    assert code == 1
    assert _broken(data) == {"support-contact": "ORCID_SUPPORT_EMAIL is not set, so the "
                                                "extension's error pages name no one to write to."}


def test_without_a_test_account_the_check_says_how_to_give_one(sample, monkeypatch):
    from example_repository.orcid_setup import orcid

    repo = sample()
    monkeypatch.setattr(orcid, "_check_targets", None)
    result = repo.test_cli_runner().invoke(args=["orcid", "check"])
    assert result.exit_code == 1
    assert "FAIL  deny-path" in result.stdout
    assert "register @orcid.check_targets returning CheckTargets(user_key=..., sign_in=...)" \
        in " ".join(result.stdout.split())


def test_beside_the_demo_the_cli_names_the_demos_support_address(tmp_path):
    """`flask orcid check` next to `make demo` reads the pages with the demo's settings."""
    from example_repository.config import DEMO_EMULATOR_URL_FILE, demo_settings

    config = {"ORCID_ENVIRONMENT": "emulator", "REPOSITORY_SUPPORT_EMAIL": "help@example.edu"}
    assert "ORCID_SUPPORT_EMAIL" not in demo_settings(str(tmp_path), config)  # no demo there
    (tmp_path / DEMO_EMULATOR_URL_FILE).write_text("http://127.0.0.1:5001\n")
    assert demo_settings(str(tmp_path), config)["ORCID_SUPPORT_EMAIL"] == "help@example.edu"
    own = {**config, "ORCID_SUPPORT_EMAIL": "orcid@example.edu"}
    assert "ORCID_SUPPORT_EMAIL" not in demo_settings(str(tmp_path), own)

"""The sample repository reads ORCID_* and REPOSITORY_* from the environment, so one code base
runs against the emulator, ORCID's sandbox or production by configuration alone (issue 6)."""

from __future__ import annotations

import pytest

from example_repository import create_app
from example_repository.config import from_environment
from flask_orcid import ConfigurationError


def test_environment_variables_become_typed_settings():
    cfg = from_environment({
        "ORCID_ENVIRONMENT": "sandbox",
        "ORCID_CLIENT_ID": "APP-ABCDEFGHIJKLMNOP",
        "ORCID_CLIENT_SECRET": "s3cret",
        "ORCID_RATE_BURST": "20",
        "ORCID_READ_TIMEOUT": "12.5",
        "ORCID_DELIVERY": "thread",
        "REPOSITORY_DOI_PREFIX": "10.12345",
        "REPOSITORY_ALLOW_REGISTRATION": "false",
        "SECRET_KEY": "k",
        "HOME": "/ignored",
    })
    assert cfg["ORCID_ENVIRONMENT"] == "sandbox" and cfg["ORCID_CLIENT_ID"] == "APP-ABCDEFGHIJKLMNOP"
    assert cfg["ORCID_RATE_BURST"] == 20 and cfg["ORCID_READ_TIMEOUT"] == 12.5
    assert cfg["ORCID_DELIVERY"] == "thread" and cfg["REPOSITORY_DOI_PREFIX"] == "10.12345"
    assert cfg["REPOSITORY_ALLOW_REGISTRATION"] is False and cfg["SECRET_KEY"] == "k"
    assert "HOME" not in cfg


def test_without_orcid_settings_the_example_talks_to_the_local_emulator():
    cfg = from_environment({})
    assert cfg["ORCID_ENVIRONMENT"] == "emulator"
    assert cfg["ORCID_CLIENT_ID"] == "APP-DEMO000000000001"


def test_sandbox_without_credentials_fails_at_start(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCID_ENVIRONMENT", "sandbox")
    monkeypatch.delenv("ORCID_CLIENT_ID", raising=False)
    monkeypatch.delenv("ORCID_CLIENT_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="ORCID_CLIENT_ID"):
        create_app({"TESTING": True, "SECRET_KEY": "x",
                    "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "UPLOAD_FOLDER": str(tmp_path / "uploads")})


def test_sandbox_app_sends_students_to_the_sandbox(make_repo, make_person):
    repo = make_repo(ORCID_ENVIRONMENT="sandbox", ORCID_CLIENT_ID="APP-ABCDEFGHIJKLMNOP",
                     ORCID_CLIENT_SECRET="not-used-here")
    student = make_person(repo)
    response = student.client.get("/orcid/connect?next=/submit/form")
    assert response.headers["Location"].startswith("https://sandbox.orcid.org/oauth/authorize?")


def test_behind_a_proxy_the_orcid_redirect_uri_is_https(make_repo, make_person):
    repo = make_repo(REPOSITORY_BEHIND_PROXY=True, REPOSITORY_TRUSTED_HOSTS="localhost,etd.example.edu")
    student = make_person(repo)
    response = student.client.get("/orcid/connect", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "etd.example.edu"})
    assert "redirect_uri=https%3A%2F%2Fetd.example.edu%2Forcid%2Fcallback" in response.headers[
        "Location"]

"""Finding 13: a signed-out ORCID sign-in for an iD already linked here stores nothing unless
the host signs the visitor in as the account's owner."""

from __future__ import annotations

import pytest

from example_repository.orcid_setup import orcid as repo_orcid

from ..plugins.app import orcid

JOSIAH = "0000-0002-1825-0097"


@pytest.fixture
def repo(make_repo):
    return make_repo(with_emulator=True)


def test_signed_out_signin_for_a_linked_id_keeps_the_owners_tokens(repo, make_person,
                                                                   authorize, emulator):
    student = make_person(repo, email="josiah@example.edu")
    assert student.client.get(authorize(student.client, "josiah@example.edu")).status_code == 302
    with repo.app_context():
        before = repo_orcid.get_account_by_orcid(JOSIAH).access_token
    visitor = repo.test_client()  # signed out (or someone holding Josiah's ORCID password)
    response = visitor.get(authorize(visitor, "josiah@example.edu"))
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    with repo.app_context():
        assert repo_orcid.get_account_by_orcid(JOSIAH).access_token == before
    statuses = sorted(t["status"] for t in emulator.tokens(orcid=JOSIAH,
                                                           client_id=emulator.client_id))
    assert statuses == ["active", "revoked"]  # the visitor's fresh token was given back
    # the owner's connection still works
    assert student.client.get("/orcid/").status_code == 200


def test_signed_out_signin_the_host_links_is_stored(app, authorize, make_user, login, emulator):
    """The test host signs the owner in on an ORCID sign-in: then the new tokens are kept."""
    owner = app.test_client()
    login(owner, make_user(app, email="j@example.edu"))
    assert owner.get(authorize(owner, "josiah@example.edu")).status_code == 302
    with app.app_context():
        before = orcid.get_account_by_orcid(JOSIAH).access_token
    visitor = app.test_client()
    assert visitor.get(authorize(visitor, "josiah@example.edu")).status_code == 302
    with app.app_context():
        assert orcid.get_account_by_orcid(JOSIAH).access_token != before

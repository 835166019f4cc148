"""Finding 3: password guessing is throttled per account and per address (storage shared
across processes when configured), login takes the same work whether or not the email exists,
and registration never tells whether an address has an account."""

from __future__ import annotations

import socket
import uuid

import pytest
from werkzeug import security

from ..plugins.example import csrf_token


def _attempt(client, email, password, address="198.51.100.7"):
    page = client.get("/account/login").get_data(as_text=True)
    return client.post("/account/login", data={
        "csrf_token": csrf_token(page), "email": email, "password": password,
    }, environ_base={"REMOTE_ADDR": address})


def test_thirty_wrong_passwords_then_the_right_one_is_refused(make_repo, make_person):
    app = make_repo()
    person = make_person(app)
    attacker = app.test_client()
    codes = [_attempt(attacker, person.email, f"guess-{i}").status_code for i in range(30)]
    assert codes[:5] == [200] * 5  # the form again, "not right"
    assert set(codes[5:]) == {429}
    response = _attempt(attacker, person.email, person.password)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    # the account is throttled from any address, not only the attacker's
    assert _attempt(app.test_client(), person.email, person.password,
                    address="203.0.113.9").status_code == 429


def test_one_address_guessing_many_accounts_is_throttled(make_repo):
    app = make_repo()
    attacker = app.test_client()
    codes = [_attempt(attacker, f"user{i}@example.edu", "guess").status_code
             for i in range(25)]
    assert codes[:20] == [200] * 20 and set(codes[20:]) == {429}
    # someone else, elsewhere, can still log in
    assert _attempt(app.test_client(), "x@example.edu", "y",
                    address="203.0.113.10").status_code == 200


def test_owner_typo_does_not_lock_them_out(make_repo, make_person):
    app = make_repo()
    person = make_person(app)
    client = app.test_client()
    for _ in range(4):
        assert _attempt(client, person.email, "typo").status_code == 200
    assert _attempt(client, person.email, person.password).status_code == 302
    for _ in range(4):  # the successful login cleared the account's count
        assert _attempt(client, person.email, "typo").status_code == 200


def test_unknown_email_costs_a_password_check_too(make_repo, make_person, monkeypatch):
    app = make_repo()
    person = make_person(app)
    checks: list[str] = []
    real = security.check_password_hash

    def counting(pwhash, password):
        checks.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr("example_repository.models.check_password_hash", counting)
    monkeypatch.setattr("example_repository.auth.check_password_hash", counting)
    _attempt(app.test_client(), person.email, "wrong")
    _attempt(app.test_client(), "nobody@example.edu", "wrong", address="192.0.2.1")
    assert len(checks) == 2 and checks[0] == checks[1]  # same method, same cost


def _register(client, email, password="a-password-1"):
    page = client.get("/account/register").get_data(as_text=True)
    return client.post("/account/register", data={
        "csrf_token": csrf_token(page), "given_names": "Eve", "family_name": "Probe",
        "email": email, "password": password, "confirm": password,
    })


def test_registration_does_not_reveal_existing_accounts(make_repo, make_person):
    app = make_repo()
    person = make_person(app)
    taken = _register(app.test_client(), person.email)
    fresh = _register(app.test_client(), "new@example.edu")
    assert taken.status_code == fresh.status_code == 302
    assert taken.headers["Location"] == fresh.headers["Location"]
    follow_taken = app.test_client()
    _register(follow_taken, person.email.upper())
    follow_fresh = app.test_client()
    _register(follow_fresh, "other@example.edu")
    page_taken = follow_taken.get("/account/login").get_data(as_text=True)
    page_fresh = follow_fresh.get("/account/login").get_data(as_text=True)
    assert page_taken.replace(csrf_token(page_taken), "") == page_fresh.replace(
        csrf_token(page_fresh), "")
    # and the owner's password still works, the prober's does not
    assert _attempt(app.test_client(), person.email, "a-password-1",
                    address="192.0.2.2").status_code == 200
    assert person.login().status_code == 302


def test_registration_is_throttled_per_address(make_repo):
    app = make_repo(REPOSITORY_REGISTER_LIMITS_PER_ADDRESS="3/hour")
    codes = [_register(app.test_client(), f"r{i}@example.edu").status_code for i in range(5)]
    assert codes == [302, 302, 302, 429, 429]


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")
def test_shared_storage_counts_across_processes(make_repo, make_person):
    """Two app instances (two processes of one site) with Redis storage share the counts."""
    pytest.importorskip("redis")
    uri = "redis://127.0.0.1:6379"
    first = make_repo(REPOSITORY_RATELIMIT_STORAGE_URI=uri)
    person = make_person(first, email=f"{uuid.uuid4().hex}@example.edu")
    second = make_repo(REPOSITORY_RATELIMIT_STORAGE_URI=uri)
    for i in range(5):
        instance = (first, second)[i % 2]
        assert _attempt(instance.test_client(), person.email, f"g{i}",
                        address=f"192.0.2.{i + 20}").status_code == 200
    assert _attempt(second.test_client(), person.email, "g5",
                    address="192.0.2.99").status_code == 429
    assert _attempt(first.test_client(), person.email, person.password,
                    address="192.0.2.98").status_code == 429

"""The account store: tokens encrypted at rest, key rotation, helpers."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.orm import Session

from flask_orcid.sync.connections import attempt_revocations
from flask_orcid.sync.crypto import TokenCipher, TokenDecryptionError, derive_key, parse_keys

from .plugins.app import db, orcid

OFFLINE = {
    "ORCID_EMULATOR_URL": "http://127.0.0.1:9",
    "ORCID_CLIENT_ID": "APP-OFFLINE00000001",
    "ORCID_CLIENT_SECRET": "offline-secret",
}
ACCESS = "f3a1c0de-aaaa-4bbb-8ccc-000000000001"
REFRESH = "f3a1c0de-aaaa-4bbb-8ccc-000000000002"


def _add_account(orcid_id="0000-0002-1825-0097", user_key="1", access=ACCESS, refresh=REFRESH):
    account = orcid.Account(
        orcid=orcid_id, user_key=user_key, environment="emulator",
        scopes="/authenticate /read-limited",
    )
    account.access_token = access
    account.refresh_token = refresh
    db.session.add(account)
    db.session.commit()
    return account


def _raw_rows(table: str) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(text(f"SELECT * FROM {table}"))]


def test_tokens_are_encrypted_at_rest_and_readable_through_properties(make_app):
    app = make_app(**OFFLINE)
    with app.app_context():
        _add_account()
        raw = _raw_rows("orcid_accounts")
        assert raw and ACCESS not in repr(raw) and REFRESH not in repr(raw)
        account = orcid.get_account("1")
        assert account.access_token == ACCESS
        assert account.refresh_token == REFRESH
        assert ACCESS not in repr(account)
        assert orcid.get_account_by_orcid("0000-0002-1825-0097") is account


def test_scope_helpers_and_mark_invalid(make_app):
    app = make_app(**OFFLINE)
    with app.app_context():
        account = _add_account()
        assert account.scope_set == {"/authenticate", "/read-limited"}
        assert account.has_scopes("/read-limited")
        assert not account.has_scopes("/read-limited", "/activities/update")
        account.mark_invalid()
        db.session.commit()
        assert orcid.get_account("1").status == "invalid"
        account.scopes = "openid"
        assert account.has_scopes("/authenticate")


def test_keys_parse_from_list_or_string():
    k1, k2 = Fernet.generate_key(), Fernet.generate_key()
    assert parse_keys(f"{k1.decode()}, {k2.decode()}") == [k1, k2]
    assert parse_keys(f"{k1.decode()} {k2.decode()}") == [k1, k2]
    assert parse_keys([k1.decode(), k2]) == [k1, k2]
    assert parse_keys(None) == []


def test_first_key_encrypts_every_key_decrypts():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    ciphertext = TokenCipher([old]).encrypt("secret")
    both = TokenCipher([new, old])
    assert both.decrypt(ciphertext) == "secret"
    rotated = both.rotate(ciphertext)
    assert TokenCipher([new]).decrypt(rotated) == "secret"
    with pytest.raises(TokenDecryptionError, match="ORCID_TOKEN_KEYS"):
        TokenCipher([old]).decrypt(rotated)


def test_derived_key_depends_on_secret_key():
    assert derive_key("a") == derive_key("a") != derive_key("b")
    TokenCipher([derive_key("a")])  # a valid Fernet key


def test_rotate_keys_reencrypts_every_token(make_app):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app = make_app(ORCID_TOKEN_KEYS=old, **OFFLINE)
    with app.app_context():
        _add_account()
        _add_account(orcid_id="0000-0001-5000-0007", user_key="2", refresh=None)
        orcid.queue_revocations(["pending-token-value"], "0000-0001-5000-0007")
        db.session.commit()
        before = _raw_rows("orcid_accounts")

    app.config["ORCID_TOKEN_KEYS"] = f"{new},{old}"
    app.extensions["orcid"].cipher = TokenCipher(parse_keys(app.config["ORCID_TOKEN_KEYS"]))
    result = app.test_cli_runner().invoke(args=["orcid", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 4 tokens (2 connections, 1 pending revocations)" in result.output

    # only the new key is needed now
    app.extensions["orcid"].cipher = TokenCipher([new.encode()])
    with app.app_context():
        assert _raw_rows("orcid_accounts") != before
        assert orcid.get_account("1").access_token == ACCESS
        assert orcid.get_account("2").refresh_token is None
        row = db.session.scalars(db.select(orcid.PendingRevocation)).one()
        assert row.token == "pending-token-value"


def test_rotate_keys_changes_nothing_when_a_token_cannot_be_read(make_app):
    old, new, unrelated = (Fernet.generate_key().decode() for _ in range(3))
    app = make_app(ORCID_TOKEN_KEYS=old, **OFFLINE)
    with app.app_context():
        _add_account()
        before = _raw_rows("orcid_accounts")
    app.extensions["orcid"].cipher = TokenCipher(parse_keys(f"{new} {unrelated}"))
    result = app.test_cli_runner().invoke(args=["orcid", "rotate-keys"])
    assert result.exit_code == 1
    assert "cannot be decrypted" in result.output
    assert ACCESS not in result.output
    with app.app_context():
        assert _raw_rows("orcid_accounts") == before


def test_two_processes_revoking_the_same_queued_tokens_both_finish(make_app, tmp_path):
    """A disconnect's retry and a worker may both take the queued revocations: each revokes
    at ORCID, and the second finds the rows gone without an error (the fault suite's
    several workers did exactly this)."""
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite'}")
    with app.app_context():
        orcid.queue_revocations(["token-a", "token-b"], "0000-0001-5000-0007")
        db.session.commit()
        client = orcid.api_client()
        model = orcid.PendingRevocation
        with Session(db.engine) as first, Session(db.engine) as second:
            rows_first = first.scalars(db.select(model)).all()
            rows_second = second.scalars(db.select(model)).all()
            assert attempt_revocations(first, client, rows_first) == (2, 0)
            assert attempt_revocations(second, client, rows_second) == (2, 0)
        assert db.session.scalars(db.select(model)).all() == []

"""Issue 4's "Bad input and security" list, one test each (or close), against the emulator."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import text

from flask_orcid.protocol.oidc import IDTokenError, verify_id_token

from ..plugins.app import db, orcid

CARBERRY = "josiah@example.edu"


def _state_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["state"][0]


def _accounts(app) -> list:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(text("SELECT * FROM orcid_accounts"))]


def _page(response) -> str:
    return response.get_data(as_text=True)


# -- state -----------------------------------------------------------------------------------

def test_missing_state_is_refused_and_nothing_is_stored(app, client, authorize, emulator):
    callback = authorize(client, CARBERRY)
    without_state = re.sub(r"([?&])state=[^&]*&?", r"\1", callback)
    emulator.reset_requests()
    response = client.get(without_state, follow_redirects=True)
    assert response.status_code == 400
    assert "did not say which sign-in" in _page(response)
    assert 'href="/orcid/connect"' in _page(response)  # start again
    assert _accounts(app) == []
    assert emulator.requests()["count"] == 0  # the code was not even exchanged


def test_forged_state_is_refused(app, client, authorize, emulator):
    callback = authorize(client, CARBERRY)
    forged = re.sub(r"state=[^&]*", "state=forged-by-someone-else", callback)
    emulator.reset_requests()
    response = client.get(forged, follow_redirects=True)
    assert response.status_code == 400
    assert "does not match a sign-in started in this browser" in _page(response)
    assert _accounts(app) == []
    assert emulator.requests()["count"] == 0


def test_state_from_another_browser_is_refused(app, authorize):
    victim, attacker = app.test_client(), app.test_client()
    callback = authorize(attacker, CARBERRY)  # login CSRF: attacker's code in victim's browser
    response = victim.get(callback, follow_redirects=True)
    assert response.status_code == 400
    assert _accounts(app) == []


def test_repeated_callback_after_success_lands_on_the_connection(app, client, authorize,
                                                                 make_user, login, emulator):
    login(client, make_user(app, email="j@example.edu"))
    callback = authorize(client, CARBERRY)
    assert client.get(callback).status_code == 302
    stored = _accounts(app)
    emulator.reset_requests()
    replay = client.get(callback)  # reload, back button
    assert replay.status_code == 302
    assert replay.headers["Location"] == "/orcid/"
    assert emulator.requests()["count"] == 0
    assert _accounts(app) == stored


def test_replayed_callback_of_another_user_is_refused(app, client, authorize, make_user, login):
    login(client, make_user(app, email="j@example.edu"))
    callback = authorize(client, CARBERRY)
    assert client.get(callback).status_code == 302
    stored = _accounts(app)
    other = app.test_client()
    login(other, make_user(app, email="k@example.edu"))
    replay = other.get(callback, follow_redirects=True)
    assert replay.status_code == 400
    assert "already used" in _page(replay)
    assert _accounts(app) == stored


def test_expired_state_is_refused(app, client, authorize):
    callback = authorize(client, CARBERRY, next="/deposit")
    with client.session_transaction() as sess:
        states = sess["_orcid_states"]
        for entry in states.values():
            entry["t"] -= 3600
        sess["_orcid_states"] = states
    response = client.get(callback, follow_redirects=True)
    assert response.status_code == 400
    assert "has expired" in _page(response)
    assert 'href="/orcid/connect?next=/deposit"' in _page(response)
    assert _accounts(app) == []


def test_several_flows_may_be_in_flight_but_bounded(app, client):
    states = [_state_of(client.get("/orcid/connect").headers["Location"]) for _ in range(7)]
    with client.session_transaction() as sess:
        kept = set(sess["_orcid_states"])
    assert kept == set(states[-5:])


def test_replayed_authorization_code_is_refused(app, authorize, make_user, login):
    victim, attacker = app.test_client(), app.test_client()
    login(victim, make_user(app, email="v@example.edu"))
    login(attacker, make_user(app, email="a@example.edu"))
    callback = authorize(victim, CARBERRY)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert victim.get(callback).status_code == 302
    # the attacker got hold of the code (logs, Referer) and replays it with their own state
    state = _state_of(attacker.get("/orcid/connect").headers["Location"])
    response = attacker.get(f"/orcid/callback?code={code}&state={state}", follow_redirects=True)
    assert response.status_code == 400
    assert code not in _page(response)
    with app.app_context():
        assert orcid.get_account_by_orcid("0000-0002-1825-0097").user_key != str(2)


# -- disconnect CSRF ---------------------------------------------------------------------------

def _csrf(client) -> str:
    page = _page(client.get("/orcid/disconnect/confirm"))
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_disconnect_needs_the_csrf_token(app, client, connect, make_user, login, emulator):
    login(client, make_user(app, email="j@example.edu"))
    assert connect(client, CARBERRY).status_code == 302
    token = _csrf(client)
    assert client.get("/orcid/disconnect").status_code == 405
    # one character of the signature changed: not the last one, whose low bits base64 drops
    # (a token ending in "w", "y" or "z" would decode the same with an "x" there)
    i = len(token) - 5
    tampered = token[:i] + ("B" if token[i] == "A" else "A") + token[i + 1:]
    for data in ({}, {"csrf_token": ""}, {"csrf_token": tampered}):
        response = client.post("/orcid/disconnect", data=data)
        assert response.status_code == 400
        assert "Nothing was changed" in _page(response)
    assert len(_accounts(app)) == 1
    assert all(t["status"] == "active" for t in emulator.tokens(client_id=emulator.client_id))
    # a token from another session is no good either
    other = app.test_client()
    login(other, 1)
    assert other.post("/orcid/disconnect", data={"csrf_token": token}).status_code == 400
    assert len(_accounts(app)) == 1


# -- one iD, one user --------------------------------------------------------------------------

def test_second_user_cannot_link_an_id_already_linked(app, connect, make_user, login, emulator):
    first, second = app.test_client(), app.test_client()
    login(first, make_user(app, email="j@example.edu"))
    login(second, make_user(app, email="impostor@example.edu"))
    assert connect(first, CARBERRY).status_code == 302
    stored = _accounts(app)
    response = connect(second, CARBERRY)
    assert response.status_code == 409
    assert "already connected to another account" in _page(response)
    assert _accounts(app) == stored
    with app.app_context():
        assert orcid.get_account("2") is None
    statuses = sorted(t["status"] for t in emulator.tokens(orcid="0000-0002-1825-0097"))
    assert statuses == ["active", "revoked"]  # the refused sign-in's token was given back


def test_user_linked_to_one_id_cannot_link_another(app, client, connect, make_user, login, emulator):
    login(client, make_user(app, email="j@example.edu"))
    assert connect(client, CARBERRY).status_code == 302
    maria = emulator.researcher("maria@example.edu")
    with app.app_context():
        account = orcid.get_account("1")
        account.scopes = "/authenticate"  # make /connect go to ORCID again
        db.session.commit()
    response = connect(client, maria)
    assert response.status_code == 409
    assert "already connected to another ORCID iD" in _page(response)
    with app.app_context():
        assert orcid.get_account("1").orcid == "0000-0002-1825-0097"
        assert orcid.get_account_by_orcid(maria["orcid"]) is None


# -- hostile names -----------------------------------------------------------------------------

def test_script_in_names_is_escaped_everywhere(app, client, connect, make_user, login, emulator):
    evil = "<script>alert('x')</script>"
    created = requests.post(
        f"{emulator.url}/_emulator/researchers",
        json={
            "given_names": evil,
            "family_name": evil,
            "email": "evil@example.edu",
            "password": "evil-pass-1",
        },
        timeout=10,
    ).json()
    user = make_user(app, email="evil@example.edu", given_names=evil, family_names=evil)
    login(client, user)
    response = connect(client, {"email": "evil@example.edu", "password": "evil-pass-1"})
    assert response.status_code == 302
    page = _page(client.get("/orcid/disconnect/confirm"))
    assert created["orcid"] in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(" in page  # the name ORCID sent is shown, as text
    visitor = app.test_client()
    state = _state_of(visitor.get("/orcid/connect").headers["Location"])
    error = visitor.get(
        f"/orcid/callback?error={requests.utils.quote(evil)}&error_description="
        + requests.utils.quote(evil) + f"&state={state}"
    )
    assert error.status_code == 400
    assert "<script>" not in _page(error) and "alert(" not in _page(error)


# -- secrets never leak ------------------------------------------------------------------------

def test_tokens_absent_from_logs_pages_and_database(
    app, client, connect, authorize, make_user, login, emulator, caplog
):
    caplog.set_level(logging.DEBUG)
    login(client, make_user(app, email="j@example.edu"))
    callback = authorize(client, CARBERRY)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    pages = [client.get(callback)]
    with app.app_context():
        account = orcid.get_account("1")
        secrets = [account.access_token, account.refresh_token, code]
        raw = repr(_accounts(app))
    pages.append(client.get("/orcid/"))
    pages.append(client.get(callback))  # replay: an error page
    pages.append(client.post("/orcid/disconnect", data={"csrf_token": _csrf(client)}))
    for secret in secrets:
        assert secret
        assert secret not in caplog.text
        for page in pages:
            assert secret not in _page(page)
            assert secret not in repr(page.headers)
        if secret != code:
            assert secret not in raw


# -- ORCID unreachable -------------------------------------------------------------------------

def test_orcid_unreachable_during_callback(make_app, make_user, login):
    app = make_app(
        ORCID_EMULATOR_URL="http://127.0.0.1:9",  # nothing listens there
        ORCID_CLIENT_ID="APP-DEMO000000000001",
        ORCID_CLIENT_SECRET="demo-secret-0001",
        ORCID_MAX_RETRIES=0,
        ORCID_REACHABILITY_SECONDS=0,  # ORCID went down between /connect and the callback
    )
    client = app.test_client()
    login(client, make_user(app, email="j@example.edu"))
    state = _state_of(client.get("/orcid/connect?next=/deposit").headers["Location"])
    response = client.get(f"/orcid/callback?code=Ab12Cd&state={state}", follow_redirects=True)
    assert response.status_code == 503
    page = _page(response)
    assert "could not reach ORCID" in page and "Nothing was stored" in page
    assert 'href="/orcid/connect?next=/deposit"' in page
    assert "orcid-help@example.edu" in page
    assert _accounts(app) == []


def test_orcid_failing_during_callback_stores_nothing(app, client, authorize, emulator):
    callback = authorize(client, CARBERRY)
    emulator.fault(method="POST", path="^/oauth/token$", action="status", status=500, count=10)
    response = client.get(callback, follow_redirects=True)
    assert response.status_code == 503
    assert _accounts(app) == []


# -- id_token verification (OpenID Connect) ----------------------------------------------------

def _signed(claims: dict, key, kid: str = "k1") -> str:
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


@pytest.fixture(scope="module")
def rsa_keys():
    return (
        RSAKey.generate_key(2048, parameters={"kid": "k1"}),
        RSAKey.generate_key(2048, parameters={"kid": "k1"}),  # an impostor using the same kid
    )


def _good_claims(now: int) -> dict:
    return {
        "iss": "https://orcid.example", "aud": "APP-1", "sub": "0000-0002-1825-0097",
        "iat": now, "exp": now + 600, "nonce": "n-1",
    }


@pytest.mark.parametrize(
    "change, key_index",
    [
        ({}, 1),  # signed with a key ORCID does not publish
        ({"iss": "https://evil.example"}, 0),
        ({"aud": "APP-SOMEONE-ELSE"}, 0),
        ({"exp": -1}, 0),
        ({"nonce": "replayed"}, 0),
        ({"sub": "0000-0001-5000-0007"}, 0),
    ],
)
def test_bad_id_tokens_are_refused(rsa_keys, change, key_index):
    now = int(time.time())
    claims = _good_claims(now)
    claims.update({k: (now - 3600 if v == -1 else v) for k, v in change.items()})
    jwks = {"keys": [rsa_keys[0].as_dict(private=False)]}
    kwargs = dict(
        get_jwks=lambda refresh: jwks, issuer="https://orcid.example", client_id="APP-1",
        nonce="n-1", orcid="0000-0002-1825-0097",
    )
    assert verify_id_token(_signed(_good_claims(now), rsa_keys[0]), **kwargs)["sub"]
    with pytest.raises(IDTokenError):
        verify_id_token(_signed(claims, rsa_keys[key_index]), **kwargs)


def test_unknown_kid_refetches_the_key_set_once(rsa_keys):
    fetched: list[bool] = []
    jwks = {"keys": [rsa_keys[0].as_dict(private=False)]}

    def get_jwks(refresh):
        fetched.append(refresh)
        return jwks

    token = _signed(_good_claims(int(time.time())), rsa_keys[0], kid="rotated")
    with pytest.raises(IDTokenError):
        verify_id_token(token, get_jwks=get_jwks, issuer="https://orcid.example",
                        client_id="APP-1", nonce="n-1")
    assert fetched == [False, True]
    with pytest.raises(IDTokenError):
        verify_id_token("not.a-jwt", get_jwks=get_jwks, issuer="https://orcid.example",
                        client_id="APP-1", nonce=None)


def test_a_key_set_without_alg_verifies_rs256_only(rsa_keys):
    """ORCID's published key names no algorithm (issue 12): RS256 is still the only one taken."""
    public = rsa_keys[0].as_dict(private=False)
    public.pop("alg", None)
    jwks = {"keys": [public]}
    kwargs = dict(get_jwks=lambda refresh: jwks, issuer="https://orcid.example", client_id="APP-1",
                  nonce="n-1", orcid="0000-0002-1825-0097")
    claims = _good_claims(int(time.time()))
    assert verify_id_token(_signed(claims, rsa_keys[0]), **kwargs)["sub"] == claims["sub"]
    # an HMAC token keyed with the public key (algorithm confusion) is refused
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': 'k1'}).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(rsa_keys[0].as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(IDTokenError):
        verify_id_token(f"{signing_input}.{b64(mac)}", **kwargs)

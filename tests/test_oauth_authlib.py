"""The OAuth dance goes through Authlib's OAuth2Client over the client's own transport (issue 10):
the token calls keep the rate limit, CallInfo reports, retries and redaction, ORCID's answers map
to the same exceptions, and callers get the token as ORCID sent it. Then the real thing: code,
refresh and revocation against the emulator."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses
from authlib.oauth2.client import OAuth2Client

from flask_orcid import OAuthError, ORCIDClient, RateLimitedError, RateLimiter
from flask_orcid.protocol.endpoints import endpoints
from flask_orcid.protocol.oauth import authorization_url

BASE = "http://127.0.0.1:5999"
CLIENT_ID = "APP-DEMO000000000001"
SECRET = "demo-secret-0001"
TOKEN = "f5af9f51-07e6-4332-8f1a-c0c11c1e3728"
REFRESH = "r-7c1d9aa0"


@pytest.fixture
def client():
    c = ORCIDClient(CLIENT_ID, SECRET, environment="emulator", emulator_url=BASE,
                    timeout=(1.0, 2.0), backoff=0.001, rate=1000.0, burst=1000)
    c.sleep = lambda _s: None
    yield c
    c.close()


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def authlib_calls(monkeypatch):
    """Which of Authlib's OAuth2Client methods ran."""
    seen: list[str] = []
    for name in ("fetch_token", "refresh_token", "revoke_token", "create_authorization_url"):
        original = getattr(OAuth2Client, name)

        def spy(self, *args, _original=original, _name=name, **kwargs):
            seen.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(OAuth2Client, name, spy)
    return seen


def test_every_token_call_is_authlibs(client, rsps, authlib_calls):
    rsps.post(f"{BASE}/oauth/token", json={"access_token": TOKEN, "orcid": "0000-0002-1825-0097"})
    rsps.post(f"{BASE}/oauth/revoke", status=200)
    client.exchange_code("Wk1Yjn", "http://127.0.0.1:5000/cb")
    client.refresh_token(REFRESH)
    client.client_credentials()
    client.revoke(TOKEN)
    assert authlib_calls == ["fetch_token", "refresh_token", "fetch_token", "revoke_token"]
    assert all("Authorization" not in call.request.headers for call in rsps.calls)
    assert all(parse_qs(call.request.body)["client_secret"] == [SECRET] for call in rsps.calls)


def test_the_authorize_url_is_authlibs_with_orcids_encoding(authlib_calls):
    url = authorization_url(endpoints("emulator", BASE), CLIENT_ID, "http://127.0.0.1:5000/cb",
                            ["/authenticate", "/read-limited"], "st-1", given_names="Ada",
                            family_names=None, lang="es", nonce=None)
    assert authlib_calls == ["create_authorization_url"]
    assert url.startswith(f"{BASE}/oauth/authorize?")
    assert "scope=%2Fauthenticate%20%2Fread-limited" in url
    query = parse_qs(urlsplit(url).query)
    assert query == {"response_type": ["code"], "client_id": [CLIENT_ID],
                     "redirect_uri": ["http://127.0.0.1:5000/cb"],
                     "scope": ["/authenticate /read-limited"], "state": ["st-1"],
                     "given_names": ["Ada"], "lang": ["es"]}


def test_the_token_is_returned_as_orcid_sent_it(client, rsps):
    """Authlib adds ``expires_at`` and, on refresh, copies the old refresh token into the answer;
    the caller would store the old refresh token as if it were new."""
    rsps.post(f"{BASE}/oauth/token", json={"access_token": "new", "expires_in": 3600})
    assert client.refresh_token(REFRESH, scope="/read-limited") == {
        "access_token": "new", "expires_in": 3600}
    form = parse_qs(rsps.calls[0].request.body)
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [REFRESH]


def test_token_calls_keep_the_rate_limit_and_callinfo(rsps):
    limiter = RateLimiter(rate=1000.0, burst=100)
    c = ORCIDClient(CLIENT_ID, SECRET, environment="emulator", emulator_url=BASE,
                    rate_limiter=limiter, backoff=0.001)
    c.sleep = lambda _s: None
    seen = []
    c.on_response = seen.append
    rsps.post(f"{BASE}/oauth/token", status=502)
    rsps.post(f"{BASE}/oauth/token", json={"access_token": "two-legged"})
    assert c.client_credentials()["access_token"] == "two-legged"
    assert [(i.operation, i.url_path, i.status) for i in seen] == [
        ("client_credentials", "/oauth/token", 502), ("client_credentials", "/oauth/token", 200)]
    assert limiter.request_count == 2 and c.request_count == 2
    c.close()


def test_an_error_beside_a_token_is_an_orcid_oauth_error(client, rsps, caplog):
    caplog.set_level(logging.DEBUG)
    rsps.post(f"{BASE}/oauth/token",
              json={"access_token": TOKEN, "error": "invalid_grant",
                    "error_description": f"code Wk1Yjn for {SECRET}"})
    with pytest.raises(OAuthError) as info:
        client.exchange_code("Wk1Yjn", "http://127.0.0.1:5000/cb")
    assert info.value.error == "invalid_grant"
    for secret in ("Wk1Yjn", SECRET, TOKEN):
        assert secret not in str(info.value) and secret not in caplog.text


def test_an_unreadable_expiry_is_an_orcid_oauth_error(client, rsps):
    rsps.post(f"{BASE}/oauth/token", json={"access_token": TOKEN, "expires_in": "soon"})
    with pytest.raises(OAuthError, match="could not be read"):
        client.client_credentials()


def test_a_rate_limited_exchange_is_not_retried_and_says_so(client, rsps):
    rsps.post(f"{BASE}/oauth/token", status=429, headers={"Retry-After": "3"})
    with pytest.raises(RateLimitedError):
        client.exchange_code("Wk1Yjn", "http://127.0.0.1:5000/cb")
    assert len(rsps.calls) == 1


def test_code_refresh_and_revoke_against_the_emulator(orcid_emulator):
    query = urlencode({"client_id": orcid_emulator.client_id, "response_type": "code",
                       "scope": "/read-limited /activities/update",
                       "redirect_uri": "http://127.0.0.1:9/cb", "state": "s-1"})
    callback = orcid_emulator.authorize(f"{orcid_emulator.url}/oauth/authorize?{query}",
                                        "josiah@example.edu")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    c = ORCIDClient(orcid_emulator.client_id, orcid_emulator.client_secret,
                    environment="emulator", emulator_url=orcid_emulator.url)
    try:
        token = c.exchange_code(code, "http://127.0.0.1:9/cb")
        assert token["orcid"] == "0000-0002-1825-0097" and "expires_at" not in token
        refreshed = c.refresh_token(token["refresh_token"], scope="/read-limited")
        assert refreshed["access_token"] != token["access_token"]
        assert refreshed["scope"] == "/read-limited"
        c.revoke(refreshed["access_token"])
    finally:
        c.close()
    rows = orcid_emulator.tokens(orcid="0000-0002-1825-0097", client_id=orcid_emulator.client_id)
    # the first token stays; the refreshed one (narrowed to /read-limited) is revoked
    assert sorted((t["status"], " ".join(sorted(t["scopes"]))) for t in rows) == [
        ("active", "/activities/update /read-limited"), ("revoked", "/read-limited")]

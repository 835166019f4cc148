"""The emulator's registry pages and OAuth, driven over HTTP like a browser and a client would."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

CARBERRY = "0000-0002-1825-0097"
CALLBACK = "http://127.0.0.1:8765/orcid/callback"


def authorize_url(emulator, **params) -> str:
    query = {
        "client_id": emulator.client_id,
        "response_type": "code",
        "scope": "/read-limited /activities/update",
        "redirect_uri": CALLBACK,
        "state": "s-123",
    }
    query.update(params)
    return f"{emulator.url}/oauth/authorize?{urlencode(query)}"


def exchange(emulator, code: str, redirect_uri: str = CALLBACK, **extra) -> requests.Response:
    data = {
        "client_id": emulator.client_id,
        "client_secret": emulator.client_secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        **extra,
    }
    return requests.post(f"{emulator.url}/oauth/token", data=data,
                         headers={"Accept": "application/json"}, timeout=10)


def code_from(url: str) -> str:
    return parse_qs(urlsplit(url).query)["code"][0]


def sign_in_and_get_token(emulator, email="josiah@example.edu", password="carberry-1",
                          **params) -> dict:
    with requests.Session() as browser:
        url = emulator.consent(browser, authorize_url(emulator, **params), email, password)
    response = exchange(emulator, code_from(url))
    assert response.status_code == 200, response.text
    return response.json()


def api_get(emulator, path: str, token: str | None) -> requests.Response:
    headers = {"Accept": "application/vnd.orcid+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(f"{emulator.url}/v3.0{path}", headers=headers, timeout=10)


def test_authorize_returns_six_character_code_and_state(emulator):
    with requests.Session() as browser:
        url = emulator.consent(browser, authorize_url(emulator), "josiah@example.edu",
                                 "carberry-1")
    assert url.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(url).query)
    assert query["state"] == ["s-123"]
    assert len(query["code"][0]) == 6 and query["code"][0].isalnum()


def test_token_response_is_exactly_orcids(emulator):
    body = sign_in_and_get_token(emulator)
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in", "scope",
                         "name", "orcid"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 631138518
    assert body["scope"] == "/activities/update /read-limited"
    assert body["name"] == "Josiah Carberry"
    assert body["orcid"] == CARBERRY
    assert api_get(emulator, f"/{CARBERRY}/record", body["access_token"]).status_code == 200


def test_name_left_out_when_not_public(emulator):
    body = sign_in_and_get_token(emulator, email="kwame@example.org", password="mensah-1")
    assert "name" not in body
    assert body["orcid"] == emulator.researcher("kwame@example.org")["orcid"]


def test_sign_in_with_orcid_id_instead_of_email(emulator):
    body = sign_in_and_get_token(emulator, email=CARBERRY)
    assert body["orcid"] == CARBERRY


def test_wrong_password_is_refused(emulator):
    with requests.Session() as browser, pytest.raises(AssertionError, match="sign-in refused"):
        emulator.consent(browser, authorize_url(emulator), "josiah@example.edu", "nope")


def test_deny_redirects_with_access_denied(emulator):
    with requests.Session() as browser:
        url = emulator.consent(browser, authorize_url(emulator), "josiah@example.edu",
                                 "carberry-1", approve=False)
    assert url == (CALLBACK + "?error=access_denied&error_description=User%20denied%20access"
                   "&state=s-123")
    assert emulator.tokens(orcid=CARBERRY) == []


def test_code_is_single_use_and_reuse_revokes_its_tokens(emulator):
    with requests.Session() as browser:
        code = code_from(emulator.consent(browser, authorize_url(emulator),
                                            "josiah@example.edu", "carberry-1"))
    first = exchange(emulator, code)
    assert first.status_code == 200
    token = first.json()["access_token"]
    again = exchange(emulator, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert [t["status"] for t in emulator.tokens(orcid=CARBERRY)] == ["revoked"]
    refused = api_get(emulator, f"/{CARBERRY}/record", token)
    assert refused.status_code == 401
    assert refused.json() == {"error": "invalid_token",
                              "error_description": f"Invalid access token: {token}"}


def test_code_expires_after_ten_minutes(emulator):
    with requests.Session() as browser:
        code = code_from(emulator.consent(browser, authorize_url(emulator),
                                            "josiah@example.edu", "carberry-1"))
    emulator.advance_clock(601)
    response = exchange(emulator, code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert code in response.json()["error_description"]


def test_code_exchange_needs_the_same_redirect_uri(emulator):
    with requests.Session() as browser:
        code = code_from(emulator.consent(browser, authorize_url(emulator),
                                            "josiah@example.edu", "carberry-1"))
    assert exchange(emulator, code, redirect_uri="http://127.0.0.1:8765/other").status_code == 400


def test_bad_client_secret_gets_401(emulator):
    response = requests.post(f"{emulator.url}/oauth/token", data={
        "client_id": emulator.client_id, "client_secret": "wrong",
        "grant_type": "client_credentials", "scope": "/read-public"}, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_consent_is_skipped_when_already_granted(emulator):
    with requests.Session() as browser:
        first = emulator.consent(browser, authorize_url(emulator), "josiah@example.edu",
                                   "carberry-1")
        original = exchange(emulator, code_from(first)).json()["access_token"]
        # Signed in, same scopes: straight back to the site with a new code.
        response = browser.get(authorize_url(emulator, state="again"), allow_redirects=False,
                               timeout=10)
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location.startswith(CALLBACK) and "state=again" in location
        # A wider request shows the consent screen again.
        wider = browser.get(authorize_url(emulator, scope="/read-limited /activities/update "
                                          "/person/update"), timeout=10)
        assert 'id="consent-form"' in wider.text
    second = exchange(emulator, code_from(location)).json()
    assert second["access_token"] != original  # a new token; the old one stays valid
    assert [t["status"] for t in emulator.tokens(orcid=CARBERRY)] == ["active", "active"]


@pytest.mark.parametrize("params, error", [
    ({"client_id": "APP-UNKNOWN000000001"}, "invalid_client"),
    ({"redirect_uri": "https://evil.example.com/callback"}, "redirect_uri_mismatch"),
    ({"scope": "/read-limited /webhook"}, "invalid_scope"),
    ({"scope": ""}, "invalid_scope"),
])
def test_bad_authorize_requests_get_an_error_page(emulator, params, error):
    response = requests.get(authorize_url(emulator, **params), allow_redirects=False,
                            timeout=10)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert error in response.text


def test_consent_names_client_and_each_scope(emulator):
    with requests.Session() as browser:
        page = browser.get(authorize_url(emulator), timeout=10)
        assert 'id="signin-form"' in page.text
        form = {"csrf_token": _field(page.text, "csrf_token"),
                "next_query": _field(page.text, "next_query"),
                "username": "josiah@example.edu", "password": "carberry-1"}
        consent = browser.post(f"{emulator.url}/signin", data=form, timeout=10)
    assert "Demo Thesis Repository" in consent.text
    assert 'data-scope="/read-limited"' in consent.text
    assert 'data-scope="/activities/update"' in consent.text
    assert "Josiah Carberry" in consent.text


def test_sign_in_prefill_prefers_orcid_to_email(emulator):
    page = requests.get(authorize_url(emulator, email="maria@example.edu", orcid=CARBERRY),
                        timeout=10)
    assert f'value="{CARBERRY}"' in page.text
    page = requests.get(authorize_url(emulator, email="maria@example.edu"), timeout=10)
    assert 'value="maria@example.edu"' in page.text


def test_registration_form_prefilled_when_show_login_false(emulator):
    page = requests.get(authorize_url(emulator, show_login="false", email="new@example.edu",
                                      given_names="Ana", family_names="Pérez"), timeout=10)
    assert 'id="register-form"' in page.text
    assert 'value="Ana"' in page.text and 'value="Pérez"' in page.text
    assert 'value="new@example.edu"' in page.text


def test_new_researcher_registers_through_the_flow(emulator):
    with requests.Session() as browser:
        url = emulator.consent(
            browser, authorize_url(emulator, show_login="false", email="nuevo@example.edu",
                                   given_names="Íñigo", family_names="Ruiz"),
            "nuevo@example.edu", "a-long-password")
    body = exchange(emulator, code_from(url)).json()
    created = emulator.researcher("nuevo@example.edu")
    assert body["orcid"] == created["orcid"]
    assert created["given_names"] == "Íñigo"


def test_spanish_pages(emulator):
    page = requests.get(authorize_url(emulator, lang="es"), timeout=10)
    assert 'lang="es"' in page.text
    assert "Inicie sesión en ORCID" in page.text


def test_forms_refuse_a_missing_csrf_token(emulator):
    with requests.Session() as browser:
        browser.get(authorize_url(emulator), timeout=10)
        response = browser.post(f"{emulator.url}/signin", data={
            "username": "josiah@example.edu", "password": "carberry-1"}, timeout=10)
    assert response.status_code == 400
    assert "session" in response.text.lower()


def test_client_credentials_read_public_and_webhook(emulator):
    def grant(client_id, secret, scope):
        return requests.post(f"{emulator.url}/oauth/token", data={
            "client_id": client_id, "client_secret": secret,
            "grant_type": "client_credentials", "scope": scope}, timeout=10)

    public = grant(emulator.client_id, emulator.client_secret, "/read-public")
    assert public.status_code == 200
    assert public.json()["orcid"] is None and public.json()["scope"] == "/read-public"
    assert grant(emulator.client_id, emulator.client_secret, "/webhook").status_code == 200
    basic = emulator.new_client("Basic member")
    refused = grant(basic["client_id"], basic["client_secret"], "/webhook")
    assert refused.status_code == 400
    assert refused.json()["error_description"] == "Invalid scope: /webhook"


def test_http_basic_client_authentication(emulator):
    credentials = base64.b64encode(
        f"{emulator.client_id}:{emulator.client_secret}".encode()).decode()
    response = requests.post(f"{emulator.url}/oauth/token", data={
        "grant_type": "client_credentials", "scope": "/read-public"},
        headers={"Authorization": f"Basic {credentials}"}, timeout=10)
    assert response.status_code == 200


def test_refresh_token_grant_keeps_old_token(emulator):
    body = sign_in_and_get_token(emulator)
    response = requests.post(f"{emulator.url}/oauth/token", data={
        "client_id": emulator.client_id, "client_secret": emulator.client_secret,
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"],
        "scope": "/read-limited"}, timeout=10)
    assert response.status_code == 200
    fresh = response.json()
    assert fresh["scope"] == "/read-limited" and fresh["access_token"] != body["access_token"]
    assert api_get(emulator, f"/{CARBERRY}/person", body["access_token"]).status_code == 200
    wider = requests.post(f"{emulator.url}/oauth/token", data={
        "client_id": emulator.client_id, "client_secret": emulator.client_secret,
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"],
        "scope": "/person/update"}, timeout=10)
    assert wider.status_code == 400


def test_revoked_token_is_refused(emulator):
    body = sign_in_and_get_token(emulator)
    response = requests.post(f"{emulator.url}/oauth/revoke", data={
        "client_id": emulator.client_id, "client_secret": emulator.client_secret,
        "token": body["access_token"]}, timeout=10)
    assert response.status_code == 200
    refused = api_get(emulator, f"/{CARBERRY}/record", body["access_token"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert emulator.tokens(orcid=CARBERRY)[0]["status"] == "revoked"


def test_user_revoked_token_may_only_delete(emulator):
    body = sign_in_and_get_token(emulator)
    token = body["access_token"]
    headers = {"Authorization": f"Bearer {token}",
               "Content-Type": "application/vnd.orcid+json"}
    work = {"title": {"title": {"value": "A thesis"}}, "type": "dissertation-thesis",
            "external-ids": {"external-id": [{"external-id-type": "doi",
                                              "external-id-value": "10.5555/revoke.1",
                                              "external-id-relationship": "self"}]}}
    created = requests.post(f"{emulator.url}/v3.0/{CARBERRY}/work", json=work,
                            headers=headers, timeout=10)
    assert created.status_code == 201
    location = created.headers["Location"]
    assert emulator.user_revoke(CARBERRY) == 1
    assert emulator.tokens(orcid=CARBERRY)[0]["status"] == "user_revoked"
    assert requests.get(location, headers=headers, timeout=10).status_code == 401
    again = requests.post(f"{emulator.url}/v3.0/{CARBERRY}/work", json=work, headers=headers,
                          timeout=10)
    assert again.status_code == 401
    assert requests.delete(location, headers=headers, timeout=10).status_code == 204
    assert emulator.record(CARBERRY)["works"][-1]["title"] != "A thesis"


def test_openid_id_token_and_userinfo(emulator):
    body = sign_in_and_get_token(emulator, scope="openid", nonce="n-42")
    assert body["scope"] == "openid"
    config = requests.get(f"{emulator.url}/.well-known/openid-configuration", timeout=10).json()
    assert config["issuer"] == emulator.url
    assert config["token_endpoint_auth_methods_supported"] == ["client_secret_post"]
    published = requests.get(config["jwks_uri"], timeout=10).json()
    # ORCID's key set names no algorithm (issue 12): kty, e, use, kid, n only
    assert [sorted(k) for k in published["keys"]] == [["e", "kid", "kty", "n", "use"]]
    keys = KeySet.import_key_set(published)
    token = jwt.decode(body["id_token"], keys, algorithms=["RS256"])
    assert token.header["alg"] == "RS256"
    claims = token.claims
    assert claims["aud"] == emulator.client_id
    assert claims["sub"] == CARBERRY
    assert claims["iss"] == emulator.url
    assert claims["nonce"] == "n-42"
    assert {"iat", "exp", "auth_time", "jti"} <= set(claims)
    info = requests.get(config["userinfo_endpoint"], timeout=10,
                        headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert info["sub"] == CARBERRY and info["given_name"] == "Josiah"
    bad = requests.get(config["userinfo_endpoint"], timeout=10,
                       headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 403 and bad.json()["error"] == "access_denied"


def test_prompt_none_without_session_answers_in_the_fragment(emulator):
    response = requests.get(authorize_url(emulator, scope="openid", prompt="none"),
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert response.headers["Location"] == CALLBACK + "#error=login_required"


def test_token_endpoint_refuses_get(emulator):
    assert requests.get(f"{emulator.url}/oauth/token", timeout=10).status_code == 405


def _field(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)].replace("&amp;", "&")


def test_prompt_login_forces_a_new_sign_in(emulator):
    with requests.Session() as browser:
        first = emulator.consent(browser, authorize_url(emulator, scope="openid"),
                                   "josiah@example.edu", "carberry-1")
        assert exchange(emulator, code_from(first)).status_code == 200
        skipped = browser.get(authorize_url(emulator, scope="openid"), allow_redirects=False,
                              timeout=10)
        assert skipped.status_code == 302  # signed in and already granted
        forced = browser.get(authorize_url(emulator, scope="openid", prompt="login"),
                             timeout=10)
        assert 'id="signin-form"' in forced.text

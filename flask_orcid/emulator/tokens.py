"""OAuth and OpenID Connect endpoints: token, revocation, discovery, JWKS and userinfo.

Behaviour follows API-FACTS §2 and §3: client authentication, the three grant types ORCID
supports, id_tokens signed with the emulator's per-start RS256 key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import unquote_plus

from flask import Blueprint, Response, current_app, jsonify, request
from joserfc import jwt

from .authorize import parse_scopes
from .runtime import emulator, state
from .state import (
    CLIENT_SCOPES,
    CODE_LIFETIME,
    PREMIUM_SCOPES,
    TOKEN_LIFETIME,
    Client,
    Researcher,
    Token,
)

bp = Blueprint("tokens", __name__)


# -- token endpoint ------------------------------------------------------------------------------
def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def authenticate_client() -> Client | None:
    """HTTP Basic or client_id/client_secret form fields (API-FACTS §2.3)."""
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        client_id = unquote_plus(auth.username or "")
        secret = unquote_plus(auth.password or "")
    else:
        client_id = request.form.get("client_id", "")
        secret = request.form.get("client_secret", "")
    client = state().clients.get(client_id)
    if client is None or not secret or not hmac.compare_digest(client.secret, secret):
        return None
    return client


def _token_json(token: Token, nonce: str | None = None) -> dict[str, Any]:
    st = state()
    body: dict[str, Any] = {
        "access_token": token.access_token,
        "token_type": "bearer",
        "refresh_token": token.refresh_token,
        "expires_in": TOKEN_LIFETIME,
        "scope": " ".join(token.scopes),
    }
    researcher = st.researchers.get(token.orcid) if token.orcid else None
    if researcher is not None and researcher.name_visibility == "public":
        # API-FACTS §2.3: the name only when it is public.
        body["name"] = researcher.display_name
    body["orcid"] = token.orcid
    if researcher is not None and "openid" in token.scopes:
        body["id_token"] = make_id_token(token, researcher, nonce)
    return body


def make_id_token(token: Token, researcher: Researcher, nonce: str | None) -> str:
    st = state()
    now = int(st.now())
    digest = hashlib.sha256(token.access_token.encode()).digest()
    claims: dict[str, Any] = {
        "at_hash": base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode(),
        "aud": token.client_id,
        "sub": researcher.orcid,
        "auth_time": int(token.auth_time or now),
        "amr": "pwd",
        "iss": issuer(),
        "exp": now + 600,
        "iat": now,
        "jti": secrets.token_hex(16),
    }
    if nonce:
        claims["nonce"] = nonce
    if researcher.name_visibility == "public":
        claims["given_name"] = researcher.given_names
        claims["family_name"] = researcher.family_name
    em = emulator()
    return jwt.encode({"alg": "RS256", "kid": em.kid, "typ": "JWT"}, claims, em.key)


def issuer() -> str:
    """``EMULATOR_ISSUER`` or the request's host URL, without a trailing slash."""
    configured = current_app.config.get("EMULATOR_ISSUER")
    return (configured or request.host_url).rstrip("/")


@bp.route("/oauth/token", methods=["GET"])
def token_get() -> Response:
    return _oauth_error(
        "method_not_allowed",
        "Method GET is not supported for token requests. POST IS supported, but BASIC "
        "authentication is the preferred method of authenticating clients.",
        405,
    )


@bp.route("/oauth/token", methods=["POST"])
def token() -> Response:
    st = state()
    client = authenticate_client()
    if client is None:
        return _oauth_error("invalid_client", "Bad client credentials", 401)
    grant_type = request.form.get("grant_type", "")
    with st.lock:
        if grant_type == "authorization_code":
            return _exchange_code(client)
        if grant_type == "refresh_token":
            return _refresh(client)
        if grant_type == "client_credentials":
            scopes = parse_scopes(request.form.get("scope")) or ["/read-public"]
            for scope in scopes:
                if scope not in CLIENT_SCOPES or (scope in PREMIUM_SCOPES and not client.premium):
                    return _oauth_error("invalid_scope", f"Invalid scope: {scope}")
            tok = st.issue_token(client.client_id, None, scopes, "client_credentials")
            st.save()
            return jsonify(_token_json(tok))
        return _oauth_error("unsupported_grant_type", f"Unsupported grant type: {grant_type}")


def _exchange_code(client: Client) -> Response:
    st = state()
    value = request.form.get("code", "")
    code = st.codes.get(value)
    invalid = _oauth_error("invalid_grant", f"Invalid authorization code: {value}")
    if code is None or code.client_id != client.client_id:
        return invalid
    if code.used:
        # A reused code revokes every token it issued (API-FACTS §2.2).
        for token_id in code.token_ids:
            if token_id in st.tokens:
                st.tokens[token_id].status = "revoked"
        st.save()
        return invalid
    if st.now() - code.issued_at > CODE_LIFETIME:
        return invalid
    if request.form.get("redirect_uri", "") != code.redirect_uri:
        return _oauth_error("invalid_grant", "Redirect URI mismatch.")
    code.used = True
    tok = st.issue_token(
        client.client_id, code.orcid, code.scopes, "authorization_code",
        code=code.code, auth_time=code.auth_time,
    )
    code.token_ids.append(tok.id)
    st.save()
    return jsonify(_token_json(tok, code.nonce))


def _refresh(client: Client) -> Response:
    st = state()
    old = st.find_token(request.form.get("refresh_token", ""), refresh=True)
    if old is None or old.client_id != client.client_id or st.token_status(old) not in (
        "active",
    ):
        return _oauth_error("invalid_grant", "Invalid refresh token")
    scopes = parse_scopes(request.form.get("scope")) or list(old.scopes)
    if not set(scopes) <= set(old.scopes):
        return _oauth_error("invalid_scope", f"Invalid scope: {' '.join(scopes)}")
    # UNCONFIRMED (API-FACTS §2.4): ORCID now forwards only refresh_token and scope, so
    # revoke_old and expires_in are ignored here too; clients must call /oauth/revoke.
    tok = st.issue_token(
        client.client_id, old.orcid, scopes, old.grant_type, auth_time=old.auth_time
    )
    st.save()
    return jsonify(_token_json(tok))


@bp.route("/oauth/revoke", methods=["POST"])
def revoke() -> Response:
    st = state()
    client = authenticate_client()
    if client is None:
        return _oauth_error("invalid_client", "Bad client credentials", 401)
    value = request.form.get("token", "")
    with st.lock:
        tok = st.find_token(value) or st.find_token(value, refresh=True)
        if tok is not None and tok.client_id == client.client_id:
            # Revoking the access token removes its refresh token too (one row here).
            tok.status = "revoked"
            st.save()
    return Response(status=200)


# -- OpenID Connect ------------------------------------------------------------------------------
@bp.route("/.well-known/openid-configuration")
def openid_configuration() -> Response:
    base = issuer()
    response = jsonify({
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "jwks_uri": f"{base}/oauth/jwks",
        "scopes_supported": ["openid"],
        "response_types_supported": ["code", "id_token", "id_token token"],
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["family_name", "given_name", "name", "auth_time", "iss", "sub"],
        "claims_parameter_supported": False,
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
    })
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/oauth/jwks")
def jwks() -> Response:
    """ORCID publishes the public half of the key it loads (ORCID-Source orcid-core/src/main/java/
    org/orcid/core/oauth/openid/OpenIDConnectKeyService.java:60-72, :110-111); its published
    set (kty, e, use, kid, n) carries no ``alg``, so clients must not rely on one."""
    key = emulator().key.as_dict(private=False)
    key.pop("alg", None)
    response = jsonify({"keys": [key]})
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    st = state()
    value = ""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        value = header[7:].strip()
    elif request.method == "POST":
        value = request.form.get("access_token", "")
    tok = st.find_token(value)
    researcher = st.researchers.get(tok.orcid) if tok and tok.orcid else None
    if tok is None or st.token_status(tok) != "active" or researcher is None:
        # The hyphenated key is ORCID's, not a typo (API-FACTS §2.8).
        response = jsonify({"error": "access_denied",
                            "error-description": "access_token is invalid"})
        response.status_code = 403
        return response
    public = researcher.name_visibility == "public"
    response = jsonify({
        "id": f"{issuer()}/{researcher.orcid}",
        "sub": researcher.orcid,
        "name": (researcher.credit_name or researcher.display_name) if public else None,
        "family_name": researcher.family_name if public else None,
        "given_name": researcher.given_names if public else None,
    })
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response

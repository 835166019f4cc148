"""Registry pages and OAuth: sign-in, registration, consent, token, revoke, OpenID Connect.

Behaviour follows API-FACTS §2 and §3. The pages are plain HTML forms (no JavaScript), each
carrying a CSRF token bound to the emulator's own session cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request, session
from joserfc import jwt

from .i18n import translate
from .runtime import check_csrf, emulator, state
from .state import CLIENT_SCOPES, CODE_LIFETIME, TOKEN_LIFETIME, USER_SCOPES, Client, Researcher

bp = Blueprint("oauth", __name__)

#: Parameters of /oauth/authorize that survive the sign-in/registration round trip.
AUTHORIZE_PARAMS = (
    "client_id", "response_type", "scope", "redirect_uri", "state", "nonce", "prompt",
    "show_login", "email", "orcid", "given_names", "family_names", "lang",
)


# -- redirect URIs -------------------------------------------------------------------------------
def redirect_uri_allowed(registered: list[str], uri: str) -> bool:
    """A registered ``http://127.0.0.1:*`` allows any port and path; a bare host any path."""
    try:
        target = urlsplit(uri)
        target_port = target.port
    except ValueError:
        return False
    if target.scheme not in ("http", "https") or not target.hostname or target.fragment:
        return False
    for entry in registered:
        wildcard = entry.endswith(":*")
        reg = urlsplit(entry[:-2] if wildcard else entry)
        if reg.scheme != target.scheme or reg.hostname != target.hostname:
            continue
        if not wildcard and reg.port != target_port:
            continue
        if reg.path in ("", "/") or (target.path == reg.path and not reg.query):
            return True
    return False


def _with_params(uri: str, params: list[tuple[str, str]]) -> str:
    """Append parameters percent-encoded the way ORCID does (``User%20denied%20access``)."""
    return uri + ("&" if "?" in uri else "?") + urlencode(params, quote_via=quote)


# -- authorize request ---------------------------------------------------------------------------
@dataclass
class AuthRequest:
    client: Client
    redirect_uri: str
    scopes: list[str]
    params: dict[str, str]

    @property
    def state(self) -> str | None:
        return self.params.get("state")

    @property
    def query(self) -> str:
        return urlencode(self.params)

    def redirect(self, params: list[tuple[str, str]]) -> Response:
        if self.state is not None:
            params = [*params, ("state", self.state)]
        return redirect(_with_params(self.redirect_uri, params), code=302)


class AuthorizeError(Exception):
    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def parse_scopes(raw: str | None) -> list[str]:
    return [s for s in (raw or "").replace("+", " ").replace(",", " ").split() if s]


def parse_authorize(values: dict[str, str]) -> AuthRequest:
    params = {k: values[k] for k in AUTHORIZE_PARAMS if values.get(k) is not None}
    st = state()
    client = st.clients.get(params.get("client_id", ""))
    if client is None:
        raise AuthorizeError("invalid_client", f"Client not found: {params.get('client_id', '')}")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or not redirect_uri_allowed(client.redirect_uris, redirect_uri):
        raise AuthorizeError(
            "redirect_uri_mismatch",
            "The redirect URI in the request does not match the ones registered for this client.",
        )
    if params.get("response_type", "code") != "code":
        raise AuthorizeError(
            "unsupported_response_type",
            "Only response_type=code is supported by the emulator.",
        )
    scopes = parse_scopes(params.get("scope"))
    bad = [s for s in scopes if s not in USER_SCOPES]
    if not scopes or bad:
        raise AuthorizeError("invalid_scope", f"Invalid scope: {' '.join(bad or ['(none)'])}")
    return AuthRequest(client, redirect_uri, scopes, params)


def error_page(error: str, description: str, status: int = 400) -> tuple[str, int]:
    return render_template("error.html", error=error, description=description), status


# -- session -------------------------------------------------------------------------------------
def signed_in() -> Researcher | None:
    orcid = session.get("orcid")
    return state().researchers.get(orcid) if orcid else None


def sign_in(researcher: Researcher) -> None:
    lang = session.get("lang")
    csrf = session.get("csrf")
    session.clear()
    session["orcid"] = researcher.orcid
    session["auth_time"] = int(state().now())
    session["fresh_login"] = True
    session["csrf"] = csrf or secrets.token_urlsafe(24)
    if lang:
        session["lang"] = lang


def _safe_query(raw: str | None) -> str:
    """Only a query string for /oauth/authorize may come back from a form: no open redirect."""
    pairs = parse_qsl(raw or "", keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if k in AUTHORIZE_PARAMS])


def _after_signin(next_query: str) -> Response:
    query = _safe_query(next_query)
    return redirect(f"/oauth/authorize?{query}" if query else "/console", code=302)


# -- pages ---------------------------------------------------------------------------------------
@bp.route("/oauth/authorize", methods=["GET"])
def authorize() -> Any:
    try:
        auth = parse_authorize(request.args.to_dict())
    except AuthorizeError as exc:
        return error_page(exc.error, exc.description)
    openid = "openid" in auth.scopes
    prompt = auth.params.get("prompt")
    if openid and prompt == "login" and not session.get("fresh_login"):
        session.pop("orcid", None)
    researcher = signed_in()
    if researcher is None:
        if openid and prompt == "none":
            # API-FACTS §2.2: the current front end answers with a fragment, not a query.
            return redirect(auth.redirect_uri + "#error=login_required", code=302)
        return _signin_or_register(auth)
    if state().active_grant(auth.client.client_id, researcher.orcid, auth.scopes) and not (
        openid and prompt == "login"
    ):
        # Already granted the same scopes: ORCID skips the consent screen (API-FACTS §2.1).
        return _approve(auth, researcher)
    return render_template(
        "consent.html", auth=auth, researcher=researcher,
        scope_labels=[(s, translate(f"scope:{s}")) for s in auth.scopes],
    )


@bp.route("/oauth/authorize", methods=["POST"])
def authorize_decision() -> Any:
    check_csrf(request.form.get("csrf_token"))
    query = dict(parse_qsl(_safe_query(request.form.get("next_query"))))
    try:
        auth = parse_authorize(query)
    except AuthorizeError as exc:
        return error_page(exc.error, exc.description)
    researcher = signed_in()
    if researcher is None:
        return _signin_or_register(auth)
    if request.form.get("action") == "authorize":
        return _approve(auth, researcher)
    return auth.redirect(
        [("error", "access_denied"), ("error_description", "User denied access")]
    )


def _approve(auth: AuthRequest, researcher: Researcher) -> Response:
    st = state()
    code = st.issue_code(
        auth.client.client_id, researcher.orcid, auth.scopes, auth.redirect_uri,
        auth.params.get("nonce"), float(session.get("auth_time") or st.now()),
    )
    session.pop("fresh_login", None)
    st.save()
    return auth.redirect([("code", code.code)])


def _signin_or_register(auth: AuthRequest) -> Any:
    st = state()
    params = auth.params
    known = None
    if params.get("orcid"):
        known = st.find_researcher(params["orcid"])
    if known is None and params.get("email"):
        known = st.find_researcher(params["email"])
    if params.get("show_login") == "false" and known is None:
        return render_template(
            "register.html", auth=auth, next_query=auth.query, error=None,
            form={
                "given_names": params.get("given_names", ""),
                "family_names": params.get("family_names", ""),
                "email": params.get("email", ""),
            },
        )
    if known is not None:
        username = params.get("orcid") if params.get("orcid") else params.get("email", "")
    else:
        username = ""
    return render_template(
        "signin.html", client=auth.client, next_query=auth.query, username=username,
        error=None, register_email=params.get("email", "") if known is None else "",
    )


@bp.route("/signin", methods=["GET"])
def signin_page() -> Any:
    return render_template(
        "signin.html", client=None, next_query="", username=request.args.get("email", ""),
        error=None, register_email="",
    )


@bp.route("/signin", methods=["POST"])
def signin_submit() -> Any:
    check_csrf(request.form.get("csrf_token"))
    st = state()
    username = request.form.get("username", "").strip()
    researcher = st.find_researcher(username)
    password = request.form.get("password", "")
    next_query = _safe_query(request.form.get("next_query"))
    if researcher is None or not hmac.compare_digest(researcher.password, password):
        client = st.clients.get(dict(parse_qsl(next_query)).get("client_id", ""))
        return render_template(
            "signin.html", client=client, next_query=next_query, username=username,
            error=translate("signin_failed"), register_email="",
        ), 200
    sign_in(researcher)
    return _after_signin(next_query)


@bp.route("/register", methods=["GET"])
def register_page() -> Any:
    return render_template(
        "register.html", auth=None, next_query=_safe_query(request.args.get("next_query")),
        error=None, form={k: request.args.get(k, "") for k in
                          ("given_names", "family_names", "email")},
    )


@bp.route("/register", methods=["POST"])
def register_submit() -> Any:
    check_csrf(request.form.get("csrf_token"))
    st = state()
    form = {k: request.form.get(k, "").strip() for k in ("given_names", "family_names", "email")}
    password = request.form.get("password", "")
    visibility = request.form.get("default_visibility", "public")
    next_query = _safe_query(request.form.get("next_query"))
    error = None
    if not form["given_names"] or "@" not in form["email"] or len(password) < 8:
        error = translate("register_failed")
    elif st.find_researcher(form["email"]) is not None:
        error = translate("email_taken")
    if error:
        return render_template(
            "register.html", auth=None, next_query=next_query, error=error, form=form
        ), 200
    researcher = st.add_researcher(
        form["given_names"], form["family_names"] or None, form["email"], password,
        email_verified=False,
        default_visibility=visibility if visibility in ("public", "limited", "private")
        else "public",
    )
    st.save()
    sign_in(researcher)
    return _after_signin(next_query)


@bp.route("/signout", methods=["GET", "POST"])
def signout() -> Any:
    next_query = _safe_query(request.values.get("next_query"))
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(f"/oauth/authorize?{next_query}" if next_query else "/signin", code=302)


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


def _token_json(token: Any, nonce: str | None = None) -> dict[str, Any]:
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


def make_id_token(token: Any, researcher: Researcher, nonce: str | None) -> str:
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
    from flask import current_app

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
                if scope not in CLIENT_SCOPES or (scope == "/webhook" and not client.premium):
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
    response = jsonify({"keys": [emulator().key.as_dict(private=False)]})
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
        response = jsonify({"error": "access_denied", "error-description": "access_token is invalid"})
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

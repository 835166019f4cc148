"""Registry pages of the OAuth flow: authorize and consent, sign-in, registration, sign-out.

Behaviour follows API-FACTS §2. The pages are plain HTML forms (no JavaScript), each carrying a
CSRF token bound to the emulator's own session cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

from flask import Blueprint, redirect, render_template, request, session
from werkzeug.wrappers import Response

from .i18n import translate
from .runtime import check_csrf, state
from .state import USER_SCOPES, Client, Researcher

bp = Blueprint("authorize", __name__)

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
    """The registration form, filled in from the authorize request's ``given_names``,
    ``family_names`` and ``email`` (ORCID's documented sign-in/registration prefill)."""
    next_query = _safe_query(request.args.get("next_query"))
    asked = parse_qs(next_query)
    form = {k: request.args.get(k) or (asked.get(k) or [""])[0]
            for k in ("given_names", "family_names", "email")}
    return render_template("register.html", auth=None, next_query=next_query, error=None,
                           form=form)


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

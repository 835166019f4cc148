"""The OAuth dance with ORCID, done by Authlib's ``OAuth2Client`` over the client's own transport.

Authlib builds every OAuth request and reads every token answer:

- :func:`authorization_url`: the authorize URL (``create_authorization_url``);
- the token calls of :class:`~.client.ORCIDClient` (``fetch_token`` for the code exchange and
  two-legged tokens, ``refresh_token``, ``revoke_token``), with ``client_secret_post``, the
  client authentication ORCID expects (API-FACTS §2.3).

What Authlib would otherwise do with its own ``requests`` session goes through
:class:`TokenEndpoint` instead, so each call keeps the transport's rate limit, timeouts,
retries (none for a code, which is single-use), ``CallInfo`` reports and redacted logs, and
ORCID's error answers become the same typed exceptions as before (:mod:`.responses`).

Not done by Authlib: the ``id_token`` check stays in :mod:`.oidc` (joserfc, the JOSE library
Authlib itself is built on). Authlib's ``CodeIDToken`` validation requires ``amr`` to be a JSON
array, and ORCID sends a string (API-FACTS §2.8): every ORCID sign-in with ``openid`` would
be refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests
from authlib.oauth2 import OAuth2Error as AuthlibOAuthError
from authlib.oauth2.client import OAuth2Client

from ..errors import OAuthError, ORCIDError
from .endpoints import Endpoints
from .messages import redact
from .responses import oauth_error_from_response, token_payload
from .transport import JSON

__all__ = ["TokenEndpoint", "authlib_client", "authorization_url", "token_as_sent"]

log = logging.getLogger("flask_orcid.protocol.client")

#: ORCID authenticates clients by id and secret in the form body (API-FACTS §2.3)
CLIENT_AUTH = "client_secret_post"

#: the order of the authorize URL's parameters in ORCID's examples (the rest follow)
_ORDER = ("client_id", "response_type", "scope", "redirect_uri", "state")


def authorization_url(
    endpoints: Endpoints,
    client_id: str,
    redirect_uri: str,
    scopes: Iterable[str],
    state: str,
    **params: str | None,
) -> str:
    """ORCID's authorize URL for a code flow: Authlib's ``create_authorization_url``, with the
    prefill, ``lang`` and ``nonce`` parameters in ``params`` (None values are left out).

    Authlib's encoder writes the scope's spaces as ``+``; ORCID's own examples write ``%20``
    (API-FACTS §2.1), so the same parameters are re-encoded that way, in the order of ORCID's
    examples (``client_id`` first).
    """
    oauth = OAuth2Client(None, client_id=client_id, scope=list(scopes),
                         redirect_uri=redirect_uri)
    extra = {key: value for key, value in params.items() if value}
    url, _state = oauth.create_authorization_url(endpoints.authorize_url, state=state, **extra)
    parts = urlsplit(str(url))
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    pairs.sort(key=lambda pair: _ORDER.index(pair[0]) if pair[0] in _ORDER else len(_ORDER))
    query = urlencode(pairs, quote_via=quote)
    return urlunsplit(parts._replace(query=query))


class TokenEndpoint:
    """The "session" Authlib's ``OAuth2Client`` posts through: one ORCID token or revoke call
    on the transport (``send`` is :meth:`Transport._send`).

    Error answers raise here, before Authlib reads them, as :func:`oauth_error_from_response`
    maps them; a token answer must carry an access token (:func:`token_payload`), which is kept
    in :attr:`payload`.
    """

    def __init__(self, send: Callable[..., requests.Response], operation: str, *,
                 retry: bool, secrets: list[str]) -> None:
        self._send = send
        self.operation = operation
        self.retry = retry
        self.secrets = secrets
        self.payload: dict[str, Any] = {}

    def post(self, url: str, data: Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None, auth: Any = None,
             **_ignored: Any) -> requests.Response:
        body = urlencode(list((data or {}).items()))
        if auth is not None:  # Authlib's ClientAuth: client_secret_post adds id and secret
            url, _headers, body = auth.prepare("POST", url, dict(headers or {}), body)
        form = dict(parse_qsl(body, keep_blank_values=True))
        response = self._send("POST", url, operation=self.operation, retry=self.retry,
                              form=form, accept=JSON)
        if response.status_code >= 400:
            error = oauth_error_from_response(response, self.operation, self.secrets)
            if isinstance(error, OAuthError):
                log.info("ORCID %s refused: %s (HTTP %s)", self.operation, error.error,
                         error.status)
            raise error
        if self.operation != "revoke":
            self.payload = token_payload(response, self.operation)
        return response


def authlib_client(endpoint: TokenEndpoint, client_id: str, client_secret: str) -> Any:
    """An Authlib ``OAuth2Client`` for one call, posting through ``endpoint`` (one per call:
    the ORCID client is shared between threads, Authlib's client keeps per-call state)."""
    return OAuth2Client(endpoint, client_id=client_id, client_secret=client_secret,
                        token_endpoint_auth_method=CLIENT_AUTH,
                        revocation_endpoint_auth_method=CLIENT_AUTH)


def token_as_sent(run: Callable[[], Any], endpoint: TokenEndpoint) -> dict[str, Any]:
    """Run an Authlib token call; return the token as ORCID sent it.

    Authlib's token adds ``expires_at`` (derived from ``expires_in``) and, on refresh, the old
    refresh token when ORCID sent none: callers store what ORCID sent, and must not take the
    old refresh token for a new one. A refusal Authlib itself finds in the answer (an
    ``error`` member beside a token) is an :class:`OAuthError` like ORCID's others.
    """
    try:
        token = run()
    except ORCIDError:
        raise
    except AuthlibOAuthError as exc:
        raise OAuthError(
            redact(str(exc.error or "error"), endpoint.secrets) or "error",
            redact(exc.description, endpoint.secrets) if exc.description else None,
            200,
        ) from None
    except (ValueError, TypeError):  # e.g. an expires_in that is not a number
        raise OAuthError(
            "invalid_response",
            f"ORCID's {endpoint.operation} answer could not be read as a token.",
            200,
        ) from None
    return {key: value for key, value in dict(token).items() if key in endpoint.payload}

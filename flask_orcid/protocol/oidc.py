"""Verification of OpenID Connect ``id_token``s (when ``openid`` is among ORCID_SCOPES).

ORCID signs id_tokens with RS256 keys published at ``/oauth/jwks`` (API-FACTS §2.8). We check
the signature, issuer, audience (our client id), expiry, and the ``nonce`` we sent, and that
``sub`` is the iD of the token response. The JWKS is fetched once per app and re-fetched once
when a token names a key we do not know (ORCID rotated its keys).
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any, cast

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization

from ..errors import ORCIDError, ORCIDTimeout, TransportError

__all__ = ["IDTokenError", "fetch_jwks", "verify_id_token"]

log = logging.getLogger(__name__)

#: seconds of clock difference tolerated on ``exp`` / ``iat``
LEEWAY = 120


class IDTokenError(ORCIDError):
    """The id_token in ORCID's token response did not verify."""


def fetch_jwks(url: str, timeout: tuple[float, float]) -> dict[str, Any]:
    """Download ORCID's key set (raises TransportError when ORCID cannot be reached)."""
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
    except requests.Timeout as exc:
        raise ORCIDTimeout(f"ORCID's key set did not arrive in time ({url})") from exc
    except requests.RequestException as exc:
        raise TransportError(f"ORCID's key set could not be fetched ({url})") from exc
    if response.status_code != 200:
        raise TransportError(f"ORCID's key set answered {response.status_code} ({url})")
    try:
        data = response.json()
    except (ValueError, RecursionError) as exc:
        raise IDTokenError("ORCID's key set is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise IDTokenError("ORCID's key set has no keys")
    return data


def _kid(id_token: str) -> str | None:
    try:
        header = id_token.split(".", 1)[0]
        header += "=" * (-len(header) % 4)
        kid = json.loads(base64.urlsafe_b64decode(header)).get("kid")
    except (ValueError, AttributeError, RecursionError):  # hostile nesting is not a header
        return None
    return kid if isinstance(kid, str) else None  # RFC 7517 §4.5: a kid is a string


def verify_id_token(
    id_token: str,
    *,
    get_jwks: Callable[[bool], dict[str, Any]],
    issuer: str,
    client_id: str,
    nonce: str | None,
    orcid: str | None = None,
    now: int | None = None,
) -> dict[str, Any]:
    """Verify ``id_token`` and return its claims.

    :param get_jwks: ``get_jwks(refresh)`` returns the key set; ``refresh=True`` re-downloads it.
    """
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        raise IDTokenError("the id_token is not a signed JWT")
    jwks = get_jwks(False)
    kid = _kid(id_token)
    if kid and kid not in {k.get("kid") for k in jwks.get("keys", [])}:
        jwks = get_jwks(True)
    try:
        # A JSON key set; a malformed one raises ValueError / KeyError / TypeError below.
        keys = KeySet.import_key_set(cast(KeySetSerialization, jwks))
        token = jwt.decode(id_token, keys, algorithms=["RS256"])
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise IDTokenError(f"the id_token signature did not verify ({type(exc).__name__})") from exc
    claims = token.claims
    options: dict[str, jwt.ClaimsOption] = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
        "sub": {"essential": True},
    }
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    if orcid is not None:
        options["sub"] = {"essential": True, "value": orcid}
    registry = jwt.JWTClaimsRegistry(now=now or int(time.time()), leeway=LEEWAY, **options)
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise IDTokenError(f"the id_token was refused: {exc.error}") from exc
    return dict(claims)

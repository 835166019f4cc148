"""ORCID's endpoints per environment: the only module that names ORCID's hosts (API-FACTS §1).

Everything else asks :func:`endpoints` for them, so the same code runs against production, the
sandbox and the local emulator by configuration alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigurationError

__all__ = ["DEFAULT_EMULATOR_URL", "ENVIRONMENTS", "Endpoints", "endpoints"]

ENVIRONMENTS = ("production", "sandbox", "emulator")


@dataclass(frozen=True)
class Endpoints:
    """Where one ORCID environment lives."""

    environment: str
    #: registry UI and OAuth (authorize, token, revoke, OpenID Connect)
    registry: str
    #: Member API, with the version prefix (``…/v3.0``)
    member_api: str
    #: Public API, with the version prefix
    public_api: str
    #: host for webhooks, which carry no version prefix (API-FACTS §9)
    webhook_api: str
    #: base of iD URIs (``https://orcid.org``); sandbox and emulator iDs live on their own host
    id_base: str

    @property
    def authorize_url(self) -> str:
        return f"{self.registry}/oauth/authorize"

    @property
    def token_url(self) -> str:
        # API-FACTS §1: request tokens from the registry root, not the API host.
        return f"{self.registry}/oauth/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.registry}/oauth/revoke"

    @property
    def jwks_url(self) -> str:
        return f"{self.registry}/oauth/jwks"

    @property
    def userinfo_url(self) -> str:
        return f"{self.registry}/oauth/userinfo"

    @property
    def issuer(self) -> str:
        return self.registry

    @property
    def openid_configuration_url(self) -> str:
        return f"{self.registry}/.well-known/openid-configuration"


_FIXED = {
    "production": Endpoints(
        environment="production",
        registry="https://orcid.org",
        member_api="https://api.orcid.org/v3.0",
        public_api="https://pub.orcid.org/v3.0",
        webhook_api="https://api.orcid.org",
        id_base="https://orcid.org",
    ),
    "sandbox": Endpoints(
        environment="sandbox",
        registry="https://sandbox.orcid.org",
        member_api="https://api.sandbox.orcid.org/v3.0",
        public_api="https://pub.sandbox.orcid.org/v3.0",
        webhook_api="https://api.sandbox.orcid.org",
        id_base="https://sandbox.orcid.org",
    ),
}

#: Default URL of ``python -m flask_orcid.emulator``.
DEFAULT_EMULATOR_URL = "http://127.0.0.1:5001"


def endpoints(environment: str = "production", emulator_url: str | None = None) -> Endpoints:
    """The endpoints of ``environment``: ``production``, ``sandbox`` or ``emulator``.

    The emulator serves everything from one base URL, like ORCID's hosts merged into one.
    """
    if environment in _FIXED:
        return _FIXED[environment]
    if environment == "emulator":
        base = (emulator_url or DEFAULT_EMULATOR_URL).rstrip("/")
        return Endpoints(
            environment="emulator",
            registry=base,
            member_api=f"{base}/v3.0",
            public_api=f"{base}/v3.0",
            webhook_api=base,
            id_base=base,
        )
    raise ConfigurationError(
        f"ORCID_ENVIRONMENT is {environment!r}; set it to 'production', 'sandbox' or 'emulator'."
    )

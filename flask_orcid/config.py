"""Every ``ORCID_*`` setting with its default, and ORCID's endpoints per environment.

This is the only module that names ORCID's hosts (API-FACTS §1). Everything else asks
:func:`endpoints` for them, so the same code runs against production, the sandbox and the
local emulator by configuration alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigurationError

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


#: Every setting the extension reads, with its default. ``init_app`` applies them with
#: ``setdefault``; the README's configuration reference lists the same keys.
DEFAULTS: dict[str, object] = {
    "ORCID_CLIENT_ID": None,
    "ORCID_CLIENT_SECRET": None,
    "ORCID_ENVIRONMENT": "production",
    "ORCID_EMULATOR_URL": DEFAULT_EMULATOR_URL,
    "ORCID_SCOPES": "/authenticate /read-limited /activities/update",
    "ORCID_TOKEN_KEYS": None,
    "ORCID_SUPPORT_EMAIL": None,
    "ORCID_URL_PREFIX": "/orcid",
    # seconds: (connect, read)
    "ORCID_CONNECT_TIMEOUT": 5.0,
    "ORCID_READ_TIMEOUT": 30.0,
    # ORCID's Member API limits (API-FACTS §8)
    "ORCID_RATE_LIMIT": 24.0,
    "ORCID_RATE_BURST": 40,
    "ORCID_MAX_RETRIES": 3,
    # seconds an unused ``state`` stays valid between /connect and /callback
    "ORCID_STATE_MAX_AGE": 600,
    # outbox delivery: "off" (run `flask orcid deliver`) or "thread" (in the web process)
    "ORCID_DELIVERY": "off",
    "ORCID_DELIVERY_INTERVAL": 5.0,
    # transient failures are retried this many times (exponential backoff), then parked
    "ORCID_MAX_ATTEMPTS": 8,
    "ORCID_RETRY_BASE_SECONDS": 30.0,
    "ORCID_RETRY_MAX_SECONDS": 3600.0,
    # a worker's claim on rows expires after this long (a dead worker's rows come back)
    "ORCID_WORKER_LEASE_SECONDS": 300.0,
    # the worker's client retries nothing itself: the outbox owns the backoff
    "ORCID_WORKER_MAX_RETRIES": 0,
    # burst tokens the worker leaves unused, so jitter never pushes ORCID past its burst
    "ORCID_WORKER_BURST_MARGIN": 4,
    # delivery events (the audit log) older than this many days are deleted; None keeps all
    "ORCID_EVENT_RETENTION_DAYS": 90,
    # signs webhook callback URLs; webhooks are refused while unset
    "ORCID_WEBHOOK_SECRET": None,
    # the site's public root for webhook callbacks (else SERVER_NAME)
    "ORCID_WEBHOOK_BASE_URL": None,
    # register a webhook for each new connection from the delivery worker (premium members)
    "ORCID_WEBHOOK_AUTO_REGISTER": False,
}

"""The one factory of ORCID API clients from ``ORCID_*`` settings (web requests and workers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..protocol.client import ORCIDClient
from ..protocol.ratelimit import Limiter

__all__ = ["client_from_config"]


def client_from_config(config: Mapping[str, Any], *, worker: bool = False,
                       rate_limiter: Limiter | None = None) -> ORCIDClient:
    """An :class:`ORCIDClient` for these settings.

    ``worker=True``: the delivery worker's client, which retries nothing itself unless
    ``ORCID_WORKER_MAX_RETRIES`` says so (the outbox owns the backoff); otherwise
    ``ORCID_MAX_RETRIES`` applies.
    """
    retries = config.get("ORCID_WORKER_MAX_RETRIES", 0) if worker else config.get(
        "ORCID_MAX_RETRIES", 3)
    return ORCIDClient(
        config["ORCID_CLIENT_ID"],
        config["ORCID_CLIENT_SECRET"],
        environment=config.get("ORCID_ENVIRONMENT", "production"),
        emulator_url=config.get("ORCID_EMULATOR_URL"),
        timeout=(float(config.get("ORCID_CONNECT_TIMEOUT", 5.0)),
                 float(config.get("ORCID_READ_TIMEOUT", 30.0))),
        rate=float(config.get("ORCID_RATE_LIMIT", 24.0)),
        burst=int(config.get("ORCID_RATE_BURST", 40)),
        max_retries=int(retries),
        rate_limiter=rate_limiter,
    )

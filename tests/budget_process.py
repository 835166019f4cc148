"""A process that calls the emulator through the shared rate budget, for tests/test_rate_budget.py.

``python -m tests.budget_process '<json>'`` builds the budget ``ORCID_RATE_BUDGET`` names (on the
given database URL, or Redis), waits for the start time so every process begins together, reads
one record's works ``calls`` times from ``threads`` threads and prints, as JSON, how many calls
ORCID refused with a 503.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from flask_orcid.errors import RateLimitedError
from flask_orcid.protocol.client import ORCIDClient
from flask_orcid.sync.budget import budget_from_config


def main() -> None:
    spec = json.loads(sys.argv[1])
    config = {"ORCID_RATE_BUDGET": spec["budget"], "ORCID_CLIENT_ID": spec["client_id"],
              "ORCID_RATE_LIMIT": 24.0, "ORCID_RATE_BURST": 40}
    engine = sa.create_engine(spec["database_url"], **spec.get("engine_options", {}))
    limiter = budget_from_config(config, engine, sa.MetaData())
    client = ORCIDClient(spec["client_id"], spec["client_secret"], environment="emulator",
                         emulator_url=spec["url"], max_retries=0, rate_limiter=limiter)

    def one(_: int) -> int:
        try:
            client.read_works(spec["orcid"], spec["token"])
        except RateLimitedError:
            return 1
        return 0

    time.sleep(max(0.0, spec["start_at"] - time.time()))
    with ThreadPoolExecutor(spec["threads"]) as pool:
        refused = sum(pool.map(one, range(spec["calls"])))
    print(json.dumps({"refused": refused, "sent": limiter.request_count}), flush=True)


if __name__ == "__main__":
    main()

"""A delivery worker in its own process, for the multi-process and restart tests.

``python -m tests.outbox_worker '<json config>'`` builds the same host app the tests use (the
shared ``db`` and ``orcid`` of tests/plugins/app.py) with the given Flask config, runs one
delivery pass and prints its summary as JSON on the last line.
"""

from __future__ import annotations

import json
import sys
import time

from flask import Flask


def build_app(config: dict) -> Flask:
    from tests.plugins.app import db, orcid

    app = Flask("outbox_worker")
    app.config.update(TESTING=True, SECRET_KEY="test-secret-key-not-for-production",
                      ORCID_ENVIRONMENT="emulator")
    app.config.update(config)
    db.init_app(app)
    orcid.init_app(app)
    return app


def main() -> None:
    config = json.loads(sys.argv[1])
    concurrency = int(config.pop("_concurrency", 1))
    owner = config.pop("_owner", None)
    app = build_app(config)
    from tests.plugins.app import orcid

    started = time.monotonic()
    with app.app_context():
        result = orcid.deliverer(app, concurrency=concurrency, owner=owner).run_once()
    print(json.dumps({"seconds": round(time.monotonic() - started, 2), "claimed": result.claimed, "synced": result.synced,
                      "failed": result.failed, "parked": result.parked,
                      "requests": result.requests, "errors": result.errors}), flush=True)


if __name__ == "__main__":
    main()

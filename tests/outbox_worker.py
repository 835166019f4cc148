"""A delivery worker in its own process, for the multi-process, restart and fault tests.

``python -m tests.outbox_worker '<json config>'`` builds the same host app the tests use (the
shared ``db`` and ``orcid`` of tests/plugins/app.py) with the given Flask config, runs one
delivery pass and prints its summary as JSON on the last line. With ``"_loop": <interval>``
in the config it runs ``flask orcid deliver --loop`` instead, until it is killed; should the
loop ever return, the process says why and exits with status 3.
"""

from __future__ import annotations

import json
import logging
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
    loop = config.pop("_loop", None)
    app = build_app(config)
    from tests.plugins.app import orcid

    if loop is not None:
        # the CLI runner captures stderr: the worker's log goes to the real one
        logging.basicConfig(stream=sys.__stderr__, level=logging.WARNING,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
        result = app.test_cli_runner().invoke(args=[
            "orcid", "deliver", "--loop", "--quiet", "--interval", str(loop),
            "--concurrency", str(concurrency)])
        print(result.output[-2000:], flush=True)
        print(json.dumps({"loop_died": repr(result.exception)}), flush=True)
        sys.exit(3)
    started = time.monotonic()
    with app.app_context():
        result = orcid.deliverer(app, concurrency=concurrency, owner=owner).run_once()
    print(json.dumps({"seconds": round(time.monotonic() - started, 2), "claimed": result.claimed, "synced": result.synced,
                      "failed": result.failed, "parked": result.parked,
                      "requests": result.requests, "errors": result.errors}), flush=True)


if __name__ == "__main__":
    main()

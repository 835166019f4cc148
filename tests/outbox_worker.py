"""A delivery worker in its own process, for the multi-process, restart and fault tests.

``python -m tests.outbox_worker '<json config>'`` builds the same host app the tests use (the
shared ``db`` and ``orcid`` of tests/plugins/app.py) with the given Flask config, runs one
delivery pass and prints its summary as JSON on the last line. With ``"_loop": <interval>``
in the config it runs ``flask orcid deliver --loop`` instead, until it is killed; should the
loop ever return, the process says why and exits with status 3. With ``"_terminate":
[["before" | "after", text], ...]`` (PostgreSQL) the server ends the worker's own connection
(as a restart or a failover would) just before, or just after, the first statement
containing each text.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback

import sqlalchemy as sa
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


def terminate(engine: sa.Engine, faults: list[list[str]]) -> None:
    """For each ``[when, text]`` of ``faults``, PostgreSQL ends the backend of the connection
    that runs the first statement containing ``text``, ``when`` = before it runs (the statement
    meets a dead connection) or after (the next statement, or the rollback, does). It is done
    from another connection, as ``pg_terminate_backend`` in a failover would."""
    pending = [tuple(fault) for fault in faults]
    killer = sa.create_engine(engine.url, poolclass=sa.pool.NullPool,
                              connect_args={"application_name": "outbox-worker-faults"})

    def hook(when: str):  # noqa: ANN202
        def end_backend(conn, cursor, statement, *_: object) -> None:  # noqa: ANN001
            hit = next((f for f in pending if f[0] == when and f[1] in statement), None)
            if hit is None:
                return
            pending.remove(hit)
            pid = cursor.connection.info.backend_pid
            with killer.begin() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            print(f"terminated the connection {when}: {statement.split()[0]} ...{hit[1]}...",
                  file=sys.__stderr__, flush=True)
        return end_backend

    sa.event.listen(engine, "before_cursor_execute", hook("before"))
    sa.event.listen(engine, "after_cursor_execute", hook("after"))


def main() -> None:
    config = json.loads(sys.argv[1])
    concurrency = int(config.pop("_concurrency", 1))
    owner = config.pop("_owner", None)
    loop = config.pop("_loop", None)
    faults = config.pop("_terminate", None)
    app = build_app(config)
    from tests.plugins.app import db, orcid

    if faults:
        with app.app_context():
            terminate(db.engine, faults)

    if loop is not None:
        # the CLI runner captures stderr: the worker's log goes to the real one
        logging.basicConfig(stream=sys.__stderr__, level=logging.WARNING,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
        result = app.test_cli_runner().invoke(args=[
            "orcid", "deliver", "--loop", "--quiet", "--interval", str(loop),
            "--concurrency", str(concurrency)])
        print(result.output[-2000:], flush=True)
        if result.exc_info is not None:  # where the loop died, for the test's failure message
            print("".join(traceback.format_exception(*result.exc_info))[-4000:], flush=True)
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

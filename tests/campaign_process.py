"""A campaign run step in its own process, for the restart test.

``python -m tests.campaign_process '<json config>'`` builds the host app the tests use (the
shared ``db`` and ``orcid`` of tests/plugins/app.py) with the given Flask config and runs
``flask orcid campaign run`` once; the test kills it mid-way. With ``"_loop": <interval>`` it
runs ``flask orcid campaign run --loop`` until it is killed; should the loop ever return, the
process says why and exits with status 3.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback

from tests.outbox_worker import build_app


def main() -> None:
    config = json.loads(sys.argv[1])
    loop = config.pop("_loop", None)
    app = build_app(config)
    if loop is None:
        result = app.test_cli_runner().invoke(args=["orcid", "campaign", "run"])
        print(result.output[-2000:], flush=True)
        sys.exit(result.exit_code)
    # the CLI runner captures stderr: the log goes to the real one
    logging.basicConfig(stream=sys.__stderr__, level=logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    result = app.test_cli_runner().invoke(args=[
        "orcid", "campaign", "run", "--loop", "--quiet", "--interval", str(loop)])
    print(result.output[-2000:], flush=True)
    if result.exc_info is not None:
        print("".join(traceback.format_exception(*result.exc_info))[-4000:], flush=True)
    sys.exit(3)


if __name__ == "__main__":
    main()

"""A campaign run step in its own process, for the restart test.

``python -m tests.campaign_process '<json config>'`` builds the host app the tests use (the
shared ``db`` and ``orcid`` of tests/plugins/app.py) with the given Flask config and runs
``flask orcid campaign run`` once; the test kills it mid-way.
"""

from __future__ import annotations

import json
import sys

from tests.outbox_worker import build_app


def main() -> None:
    app = build_app(json.loads(sys.argv[1]))
    result = app.test_cli_runner().invoke(args=["orcid", "campaign", "run"])
    print(result.output[-2000:], flush=True)
    sys.exit(result.exit_code)


if __name__ == "__main__":
    main()

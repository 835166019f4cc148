"""put-code-updates and api-version: a test work goes through the site's own outbox and
delivery to the test researcher's record, is edited, and is removed again; the emulator's
record and request log then show how the site talked to ORCID.

The delivery passes are the site's own (``flask orcid deliver``): they also deliver whatever
else is due, exactly as the worker would at that moment.
"""

from __future__ import annotations

import re
from typing import Any

from ..i18n import gettext as _
from ..protocol.model import ExternalId, Work
from .context import CheckRun
from .flow import fresh_account
from .model import FAIL, MANUAL, PASS

__all__ = ["CHECK_KEY", "check_items", "publish_test_work", "remove_test_work"]

#: The outbox key of the check's test work (under the test user only).
CHECK_KEY = "orcid-check:work"
API_PATH = re.compile(r"^/v\d")


def _work(run: CheckRun, title: str) -> Work:
    return Work(title=title, type="other", external_ids=[
        ExternalId("source-work-id", f"orcid-check-{run.orcid}", "self")])


def _deliver(run: CheckRun, passes: int = 6) -> Any:
    """Delivery passes until the test work is settled; the row as it ends."""
    row = None
    for _pass in range(passes):
        run.ext.db.session.rollback()
        # one thread: the check delivers one item, and leaves the shared rate budget alone
        run.ext.deliverer(run.app, concurrency=1).run_once()
        run.ext.db.session.rollback()
        row = run.ext.item_state(run.targets.user_key, CHECK_KEY)
        if row is None or row.state in ("synced", "parked", "removed_by_researcher"):
            break
    return row


def publish_test_work(run: CheckRun, title: str) -> Any:
    """Publish (or change) the test work and deliver it; returns its outbox row."""
    # the check's own test researcher: a site that asks researchers to approve items first
    # (ORCID_APPROVAL = "required") would hold it for a decision nobody is there to make
    run.ext.publish(run.targets.user_key, CHECK_KEY, _work(run, title), approved=True)
    run.ext.db.session.commit()
    return _deliver(run)


def remove_test_work(run: CheckRun) -> None:
    if fresh_account(run) is None:
        return
    run.ext.retract(run.targets.user_key, CHECK_KEY)
    run.ext.db.session.commit()
    _deliver(run)


def _ours(run: CheckRun) -> list[dict[str, Any]]:
    assert run.emulator is not None and run.orcid is not None
    works = run.emulator.record(run.orcid).get("works", [])
    mark = f"orcid-check-{run.orcid}"
    return [w for w in works if any(x["value"] == mark for x in w.get("external_ids", []))]


def check_items(run: CheckRun) -> None:
    """put-code-updates and api-version (the emulator's request log for this researcher)."""
    if run.emulator is None or run.orcid is None:
        run.add("put-code-updates", MANUAL, _(
            "Needs a connection made on ORCID's screens: edit an item in front of the reviewer "
            "and show it changed on the record without a second copy."))
        _judge_version(run, [])
        return
    first = publish_test_work(run, "ORCID integration check: test work")
    put_code = first.put_code if first is not None else None
    second = publish_test_work(run, "ORCID integration check: test work (edited)")
    log = [e for e in run.emulator.requests_seen() if run.orcid in e["path"]]
    ours = _ours(run)
    put = [e for e in log if e["method"] == "PUT"
           and e["path"].split("/")[-2:] == ["work", str(put_code)]]
    posts = [e for e in log if e["method"] == "POST" and re.search(r"/works?$", e["path"])]
    if (put_code is not None and second is not None and second.put_code == put_code and put
            and len(posts) == 1 and len(ours) == 1 and ours[0]["put_code"] == put_code
            and ours[0]["title"].endswith("(edited)")):
        run.add("put-code-updates", PASS, _(
            "The test work was added once (put-code %(code)s, stored by the site); the edit "
            "went to ORCID as PUT %(path)s and the record holds one copy, edited.",
            code=put_code, path=put[0]["path"]))
    else:
        run.add("put-code-updates", FAIL, _(
            "After an edit the record holds %(copies)d copies of the test work; the site sent "
            "%(posts)d POST(s) and %(puts)d PUT(s) to the stored put-code %(code)s (one POST, "
            "then PUT expected).", copies=len(ours), posts=len(posts), puts=len(put),
            code=put_code))
    _judge_version(run, log)
    remove_test_work(run)


def _judge_version(run: CheckRun, log: list[dict[str, Any]]) -> None:
    base = run.endpoints.member_api
    api = [e["path"] for e in log if API_PATH.match(e["path"])]
    other = sorted({p.split("/")[1] for p in api if not p.startswith("/v3.0/")})
    if not base.rstrip("/").endswith("/v3.0") or other:
        run.add("api-version", FAIL, _(
            "The site calls %(base)s%(other)s; ORCID's current version is v3.0.", base=base,
            other=(" " + _("and %(versions)s", versions=", ".join(other))) if other else ""))
    elif api:
        run.add("api-version", PASS, _("All %(n)d API calls for the test researcher went to "
                                       "v3.0 (%(base)s).", n=len(api), base=base))
    else:
        run.add("api-version", PASS, _("The site's API client is set up for %(base)s.",
                                       base=base))

"""Issue 12: locked, deactivated, deprecated and merged records answer with ORCID's codes.

ORCID-Source OrcidSecurityManagerImpl.java:146-197 (checkProfile on every call),
OrcidExceptionMapper.java:324-389 (9007: 301 on GET, 409 otherwise, Location on the primary),
OrcidCoreExceptionMapper.java:103-116 (9018, 9044), ProfileEntityManagerImpl.java:168-213
(deprecating or deactivating clears the record; a deprecation moves the emails).
"""

from __future__ import annotations

import pytest
import requests

from tests.outbox_support import new_researcher
from tests.test_emulator_api import JSON, XML, Api, error_of, put_code_of, user_token, work_xml


@pytest.fixture
def pair(emulator):
    old, new = new_researcher(emulator, "Old"), new_researcher(emulator, "New")
    token = user_token(emulator, email=old["email"], password=old["password"])
    api = Api(emulator, token, orcid=old["orcid"])
    put_code_of(api.post("/work", work_xml(value="10.5555/status.1")))
    return old, new, api


@pytest.mark.parametrize(("status", "code"), [("locked", 9018), ("deactivated", 9044)])
def test_locked_and_deactivated_records_answer_409(emulator, pair, orcid_schemas, status, code):
    old, _, api = pair
    emulator.record_status(old["orcid"], status)
    assert error_of(api.get("/works"), orcid_schemas) == (409, code)
    assert error_of(api.post("/work", work_xml(value="10.5555/status.2")), orcid_schemas) == (409, code)
    assert error_of(api.get("/works", JSON)) == (409, code)
    public = Api(emulator, None, orcid=old["orcid"])
    assert error_of(public.get("/record"), orcid_schemas) == (409, code)
    held = emulator.record(old["orcid"])
    assert held["status"] == status
    assert len(held["works"]) == (1 if status == "locked" else 0)  # deactivating clears it
    emulator.record_status(old["orcid"], "active")
    assert api.get("/works").status_code == 200


@pytest.mark.parametrize("status", ["deprecated", "merged"])
def test_deprecated_record_points_to_its_primary(emulator, pair, orcid_schemas, status):
    old, new, api = pair
    emulator.record_status(old["orcid"], status, primary=new["orcid"])
    read = requests.get(api.base + "/works", headers=api.headers(XML), allow_redirects=False, timeout=10)
    assert error_of(read, orcid_schemas) == (301, 9007)
    assert read.headers["Location"] == f"{emulator.url}/v3.0/{new['orcid']}/works"
    assert new["orcid"] in read.text
    write = api.post("/work", work_xml(value="10.5555/status.3"))
    assert error_of(write, orcid_schemas) == (409, 9007)
    assert write.headers["Location"] == f"{emulator.url}/v3.0/{new['orcid']}/work"
    held = emulator.record(old["orcid"])
    assert held["primary"] == new["orcid"] and held["works"] == [] and held["emails"] == []
    assert old["email"] in [e["email"] for e in emulator.record(new["orcid"])["emails"]]
    # a client that follows the redirect (requests does on GET) reads the primary record
    assert api.get("/works").status_code == 200


def test_the_control_api_refuses_what_orcids_admin_refuses(emulator, pair):
    old, new, _ = pair
    url = f"{emulator.url}/_emulator/records/{old['orcid']}/status"
    assert requests.post(url, json={"status": "deprecated"}, timeout=10).status_code == 400
    assert requests.post(url, json={"status": "frozen"}, timeout=10).status_code == 400
    emulator.record_status(new["orcid"], "deactivated")
    refused = requests.post(url, json={"status": "merged", "primary": new["orcid"]}, timeout=10)
    assert refused.status_code == 400  # AdminManagerImpl.java:120-126: primary is deactivated

"""The emulator's rate limit, latency, scripted faults and request counters."""

from __future__ import annotations

import time

import pytest
import requests

CARBERRY = "0000-0002-1825-0097"
JSON = "application/vnd.orcid+json"


def client_token(emulator, client_id=None, secret=None, scope="/read-public") -> str:
    response = requests.post(f"{emulator.url}/oauth/token", timeout=10, data={
        "client_id": client_id or emulator.client_id,
        "client_secret": secret or emulator.client_secret,
        "grant_type": "client_credentials", "scope": scope})
    return response.json()["access_token"]


def reader(emulator, token: str) -> requests.Session:
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Accept": JSON})
    return session


def user_token(emulator) -> str:
    from tests.test_emulator_api import user_token as flow

    return flow(emulator)


WORK = {
    "title": {"title": {"value": "Fault-tolerant thesis"}},
    "type": "dissertation-thesis",
    "external-ids": {"external-id": [{"external-id-type": "handle",
                                      "external-id-value": "20.500.12345/42",
                                      "external-id-relationship": "self"}]},
}


def post_work(emulator, token: str, timeout: float = 10) -> requests.Response:
    return requests.post(f"{emulator.url}/v3.0/{CARBERRY}/work", json=WORK, timeout=timeout,
                         headers={"Authorization": f"Bearer {token}", "Accept": JSON,
                                  "Content-Type": JSON})


# -- rate limit ----------------------------------------------------------------------------------
def test_a_burst_over_the_default_limit_gets_503s(emulator):
    with reader(emulator, client_token(emulator)) as http:
        statuses = [http.get(f"{emulator.url}/v3.0/{CARBERRY}/person", timeout=10).status_code
                    for _ in range(60)]
    assert statuses[:40] == [200] * 40  # the burst of 40 is served
    assert 503 in statuses[40:]
    assert set(statuses) == {200, 503}


def test_a_client_at_the_limit_gets_no_503(emulator):
    emulator.limits(rate=40, burst=5)
    with reader(emulator, client_token(emulator)) as http:
        start = time.monotonic()
        statuses = []
        for n in range(30):  # paced at 30/s, under the 40/s limit
            pause = start + n / 30 - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            statuses.append(http.get(f"{emulator.url}/v3.0/{CARBERRY}/works",
                                     timeout=10).status_code)
    assert statuses == [200] * 30


def test_the_bucket_is_per_client(emulator):
    emulator.limits(rate=1, burst=3)
    other = emulator.new_client("Another member")
    with reader(emulator, client_token(emulator)) as first:
        assert [first.get(f"{emulator.url}/v3.0/{CARBERRY}/works", timeout=10).status_code
                for _ in range(5)][-1] == 503
    token = client_token(emulator, other["client_id"], other["client_secret"])
    with reader(emulator, token) as second:
        assert second.get(f"{emulator.url}/v3.0/{CARBERRY}/works",
                          timeout=10).status_code == 200


def test_reset_restores_the_default_limits(emulator):
    emulator.limits(rate=1, burst=1, latency_ms=5)
    emulator.reset()
    assert requests.get(f"{emulator.url}/_emulator/limits", timeout=10).json() == {
        "rate": 24.0, "burst": 40, "latency_ms": 0}


def test_latency_is_added(emulator):
    emulator.limits(latency_ms=150)
    start = time.monotonic()
    requests.get(f"{emulator.url}/v3.0/{CARBERRY}/works", timeout=10)
    assert time.monotonic() - start >= 0.15


# -- faults --------------------------------------------------------------------------------------
def test_status_fault_for_the_next_n_matching_requests(emulator):
    token = user_token(emulator)
    emulator.fault(method="POST", path=r"/work$", count=2, action="status", status=500)
    first, second = post_work(emulator, token), post_work(emulator, token)
    assert (first.status_code, second.status_code) == (500, 500)
    assert first.json()["error-code"] == 9008
    assert post_work(emulator, token).status_code == 201
    # GETs did not match the fault
    assert requests.get(f"{emulator.url}/v3.0/{CARBERRY}/works", timeout=10).status_code == 200


def test_503_fault_with_retry_after(emulator):
    emulator.fault(path="/works", action="status", status=503, retry_after=7)
    response = requests.get(f"{emulator.url}/v3.0/{CARBERRY}/works", timeout=10)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"


def test_hang_fault_outlasts_the_client_timeout(emulator):
    emulator.fault(path="/works", action="hang", hang_seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{emulator.url}/v3.0/{CARBERRY}/works", timeout=(2, 0.3))
    assert requests.get(f"{emulator.url}/v3.0/{CARBERRY}/works", timeout=10).status_code == 200


def test_drop_fault_closes_the_connection_without_a_response(emulator):
    emulator.fault(method="GET", path="/person", action="drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{emulator.url}/v3.0/{CARBERRY}/person", timeout=5)
    assert requests.get(f"{emulator.url}/v3.0/{CARBERRY}/person", timeout=5).status_code == 200


def test_apply_then_fail_writes_but_loses_the_answer(emulator):
    token = user_token(emulator)
    emulator.fault(method="POST", path="/work$", action="apply_then_fail", status=500)
    assert post_work(emulator, token).status_code == 500
    landed = [w for w in emulator.record(CARBERRY)["works"]
              if w["title"] == "Fault-tolerant thesis"]
    assert len(landed) == 1
    retry = post_work(emulator, token)  # the client's retry meets ORCID's duplicate check
    assert retry.status_code == 409
    assert retry.json()["error-code"] == 9021
    assert f"put-code {landed[0]['put_code']}" in retry.json()["developer-message"]


def test_apply_then_drop(emulator):
    token = user_token(emulator)
    emulator.fault(method="POST", path="/work$", action="apply_then_fail", then="drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        post_work(emulator, token)
    assert any(w["title"] == "Fault-tolerant thesis"
               for w in emulator.record(CARBERRY)["works"])


def test_faults_can_target_the_token_endpoint_and_be_cleared(emulator):
    emulator.fault(path="^/oauth/token$", action="status", status=502, count=5)
    emulator.clear_faults()
    assert client_token(emulator)


# -- counters ------------------------------------------------------------------------------------
def test_request_counters(emulator):
    emulator.reset_requests()
    for _ in range(3):
        requests.get(f"{emulator.url}/v3.0/{CARBERRY}/works", timeout=10)
    seen = emulator.requests()
    assert seen["count"] == 3
    assert seen["by_endpoint"] == {"GET /v3.0/<orcid>/works": 3}
    assert seen["log"][-1] == {"method": "GET", "path": f"/v3.0/{CARBERRY}/works",
                               "status": 200}
    emulator.reset_requests()
    assert emulator.requests()["count"] == 0

"""Webhooks: registration without a version prefix, and callbacks when a record changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.test_emulator_api import user_token

CARBERRY = "0000-0002-1825-0097"
JSON = "application/vnd.orcid+json"


class Receiver:
    """A site's webhook endpoint: records every POST, answers with scripted statuses."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            self.calls.append({"method": request.method, "path": request.full_path,
                               "body": request.get_data()})
            status = self.statuses.pop(0) if self.statuses else 204
        return Response(status=status)(environ, start_response)

    def wait(self, n: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.calls) >= n:
                    return list(self.calls)
            time.sleep(0.02)
        raise AssertionError(f"expected {n} callbacks, got {len(self.calls)}")


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    app = Receiver()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def webhook_token(emulator, client=None) -> str:
    response = requests.post(f"{emulator.url}/oauth/token", timeout=10, data={
        "client_id": client["client_id"] if client else emulator.client_id,
        "client_secret": client["client_secret"] if client else emulator.client_secret,
        "grant_type": "client_credentials", "scope": "/webhook"})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def hook_url(emulator, callback: str, orcid: str = CARBERRY) -> str:
    return f"{emulator.url}/{orcid}/webhook/{quote(callback, safe='')}"


def add_work(emulator, token: str, doi: str) -> int:
    work = {"title": {"title": {"value": "Watched"}}, "type": "dissertation-thesis",
            "external-ids": {"external-id": [{"external-id-type": "doi",
                                              "external-id-value": doi,
                                              "external-id-relationship": "self"}]}}
    response = requests.post(f"{emulator.url}/v3.0/{CARBERRY}/work", json=work, timeout=10,
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": JSON, "Accept": JSON})
    assert response.status_code == 201
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_register_fires_on_change_and_unregister(emulator, receiver):
    app, base = receiver
    callback = f"{base}/orcid/webhook/{CARBERRY}?sig=abc123"
    token = webhook_token(emulator)
    auth = {"Authorization": f"Bearer {token}"}
    created = requests.put(hook_url(emulator, callback), headers=auth, timeout=10)
    assert created.status_code == 201
    assert created.headers["Location"]
    assert requests.put(hook_url(emulator, callback), headers=auth, timeout=10).status_code == 204
    assert emulator.webhooks()["webhooks"] == [
        {"orcid": CARBERRY, "url": callback, "client_id": emulator.client_id}]

    add_work(emulator, user_token(emulator), "10.5555/hook.1")
    calls = app.wait(1)
    assert calls[0] == {"method": "POST", "path": f"/orcid/webhook/{CARBERRY}?sig=abc123",
                        "body": b""}

    assert requests.delete(hook_url(emulator, callback), headers=auth,
                           timeout=10).status_code == 204
    gone = requests.delete(hook_url(emulator, callback), headers=auth, timeout=10)
    assert gone.status_code == 404
    assert "9028" in gone.text


def test_researcher_deleting_an_item_fires_the_webhook(emulator, receiver):
    app, base = receiver
    token = webhook_token(emulator)
    requests.put(hook_url(emulator, f"{base}/hook"), timeout=10,
                 headers={"Authorization": f"Bearer {token}"})
    work = emulator.record(CARBERRY)["works"][0]
    emulator.delete_item(CARBERRY, "work", work["put_code"])
    assert app.wait(1)[0]["path"].startswith("/hook")


def test_failed_callbacks_are_retried(emulator, receiver):
    app, base = receiver
    app.statuses = [500]
    token = webhook_token(emulator)
    requests.put(hook_url(emulator, f"{base}/hook"), timeout=10,
                 headers={"Authorization": f"Bearer {token}"})
    add_work(emulator, user_token(emulator), "10.5555/hook.2")
    assert len(app.wait(2)) == 2
    # The emulator records a delivery after the callback answered: poll until both are in.
    deadline = time.monotonic() + 5
    deliveries = emulator.webhooks()["deliveries"]
    while len(deliveries) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
        deliveries = emulator.webhooks()["deliveries"]
    assert [(d["attempt"], d["status"], d["ok"]) for d in deliveries[:2]] == [
        (1, 500, False), (2, 204, True)]


def test_webhooks_need_the_webhook_scope(emulator):
    public = requests.post(f"{emulator.url}/oauth/token", timeout=10, data={
        "client_id": emulator.client_id, "client_secret": emulator.client_secret,
        "grant_type": "client_credentials", "scope": "/read-public"}).json()["access_token"]
    response = requests.put(hook_url(emulator, "http://127.0.0.1:9/hook"), timeout=10,
                            headers={"Authorization": f"Bearer {public}"})
    assert response.status_code == 403
    assert requests.put(hook_url(emulator, "http://127.0.0.1:9/hook"),
                        timeout=10).status_code == 401


def test_only_the_registering_client_may_unregister(emulator):
    premium = emulator.new_client("Other premium member", premium=True)
    mine = webhook_token(emulator)
    theirs = webhook_token(emulator, premium)
    url = hook_url(emulator, "http://127.0.0.1:9/hook")
    requests.put(url, headers={"Authorization": f"Bearer {mine}"}, timeout=10)
    assert requests.delete(url, headers={"Authorization": f"Bearer {theirs}"},
                           timeout=10).status_code == 403


def test_webhook_path_has_no_version_prefix(emulator):
    token = webhook_token(emulator)
    response = requests.put(f"{emulator.url}/v3.0/{CARBERRY}/webhook/"
                            f"{quote('http://127.0.0.1:9/hook', safe='')}",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 404  # only /{orcid}/webhook/... registers a hook
    assert emulator.webhooks()["webhooks"] == []


def test_delivery_can_be_delayed(emulator, receiver, monkeypatch):
    app, base = receiver
    dispatcher = emulator.app.extensions["orcid_emulator"].webhooks
    monkeypatch.setattr(dispatcher, "delay", 0.5)
    token = webhook_token(emulator)
    requests.put(hook_url(emulator, f"{base}/hook"), timeout=10,
                 headers={"Authorization": f"Bearer {token}"})
    add_work(emulator, user_token(emulator), "10.5555/hook.3")
    time.sleep(0.1)
    assert app.calls == []
    assert len(app.wait(1)) == 1

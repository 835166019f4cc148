"""The emulator's notification API (/premium-notification) and the researcher's inbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from flask_orcid import ExternalId, ValidationError
from flask_orcid.emulator.seed import CARBERRY, OKAFOR
from flask_orcid.protocol.client import ORCIDClient
from flask_orcid.protocol.notifications import NotificationItem, PermissionNotification

XML = "application/vnd.orcid+xml"
JSON = "application/vnd.orcid+json"
NOTIFICATION = """<?xml version="1.0" encoding="UTF-8"?>
<notification:notification xmlns:notification="http://www.orcid.org/ns/notification"
    xmlns:common="http://www.orcid.org/ns/common">
  <notification:notification-type>permission</notification:notification-type>
  <notification:authorization-url>
    <notification:uri>{uri}</notification:uri>
  </notification:authorization-url>
  <notification:notification-subject>your thesis</notification:notification-subject>
  <notification:notification-intro>{intro}</notification:notification-intro>
  <notification:items>
    <notification:item>
      <notification:item-type>{item_type}</notification:item-type>
      <notification:item-name>Voces de frontera</notification:item-name>
      <common:external-id>
        <common:external-id-type>{id_type}</common:external-id-type>
        <common:external-id-value>10.5555/thesis.1</common:external-id-value>
        <common:external-id-relationship>self</common:external-id-relationship>
      </common:external-id>
    </notification:item>
  </notification:items>
</notification:notification>"""


def client_token(emulator, scope, client=None) -> requests.Response:
    client_id = client["client_id"] if client else emulator.client_id
    secret = client["client_secret"] if client else emulator.client_secret
    return requests.post(f"{emulator.url}/oauth/token", timeout=10, data={
        "client_id": client_id, "client_secret": secret, "grant_type": "client_credentials",
        "scope": scope})


def premium(emulator, client=None) -> str:
    response = client_token(emulator, "/premium-notification", client)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "/premium-notification"
    return response.json()["access_token"]


def body(uri="https://site.example.edu/orcid/connect", intro="Add your thesis to ORCID",
         item_type="work", id_type="doi") -> bytes:
    return NOTIFICATION.format(uri=uri, intro=intro, item_type=item_type,
                               id_type=id_type).encode()


def post(emulator, token, orcid=CARBERRY, data=None, media=XML,
         accept=JSON) -> requests.Response:
    return requests.post(f"{emulator.url}/v3.0/{orcid}/notification-permission",
                         data=body() if data is None else data, timeout=10,
                         headers={"Content-Type": media, "Accept": accept,
                                  "Authorization": f"Bearer {token}"})


def call(method, url, token, media=XML) -> requests.Response:
    return requests.request(method, url, timeout=10, headers={
        "Accept": media, "Authorization": f"Bearer {token}"})


def test_a_client_without_the_premium_grant_cannot_get_the_scope(emulator):
    ordinary = emulator.new_client("An ordinary member")
    refused = client_token(emulator, "/premium-notification", ordinary)
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_scope",
                              "error_description": "Invalid scope: /premium-notification"}


def test_calls_without_the_scope_are_refused(emulator):
    public = client_token(emulator, "/read-public").json()["access_token"]
    response = post(emulator, public)
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    missing = requests.post(f"{emulator.url}/v3.0/{CARBERRY}/notification-permission",
                            data=body(), timeout=10, headers={"Content-Type": XML})
    assert missing.status_code == 401
    assert emulator.record(CARBERRY) and requests.get(
        f"{emulator.url}/_emulator/notifications", timeout=10).json() == []


def test_post_read_list_and_archive(emulator, orcid_schemas):
    token = premium(emulator)
    created = post(emulator, token)
    assert created.status_code == 201 and created.content == b""
    location = created.headers["Location"]
    assert re.search(rf"/v3\.0/{CARBERRY}/notification-permission/\d+$", location)
    one = call("GET", location, token)
    root = orcid_schemas.validate(one.content)
    assert root.findtext("{http://www.orcid.org/ns/notification}notification-intro") == \
        "Add your thesis to ORCID"
    listed = call("GET", f"{emulator.url}/v3.0/{CARBERRY}/notification-permission", token, JSON)
    assert [n["put-code"] for n in listed.json()["notification"]] == [
        int(location.rsplit("/", 1)[1])]
    archived = call("DELETE", location, token, JSON)
    assert archived.status_code == 200 and archived.json()["archived-date"]["value"] > 0
    # Archived, not deleted: still listed, still readable.
    assert call("GET", location, token).status_code == 200


def test_orcids_validation_and_error_codes(emulator):
    token = premium(emulator)
    with_code = body().replace(b"<notification:notification ",
                               b'<notification:notification put-code="7" ')
    assert post(emulator, token, data=with_code).json()["error-code"] == 9006
    bad_uri = post(emulator, token, data=body(uri="https://site.example.edu/a b"))
    assert bad_uri.status_code == 400 and bad_uri.json()["error-code"] == 9020
    bad_id = post(emulator, token, data=body(id_type="not-a-type"))
    assert bad_id.status_code == 400 and bad_id.json()["error-code"] == 9023
    assert "not-a-type" in bad_id.json()["developer-message"]
    bad_type = post(emulator, token, data=body(item_type="thesis"))
    assert bad_type.status_code == 400 and bad_type.json()["error-code"] == 9012
    too_long = post(emulator, token, data=body(intro="x" * 1001))
    assert too_long.json()["error-code"] == 9012
    unknown = post(emulator, token, orcid="0000-0001-5000-0007")
    assert unknown.status_code == 404 and unknown.json()["error-code"] == 9011
    missing = call("GET", f"{emulator.url}/v3.0/{CARBERRY}/notification-permission/999999",
                   token)
    assert missing.status_code == 404
    assert b"<error:error-code>9029</error:error-code>" in missing.content


def test_another_client_can_neither_read_nor_archive(emulator):
    location = post(emulator, premium(emulator)).headers["Location"]
    other = emulator.new_client("Another premium member", premium=True)
    token = premium(emulator, other)
    assert call("GET", location, token, JSON).json()["error-code"] == 9004
    assert call("DELETE", location, token, JSON).json()["error-code"] == 9010
    listed = call("GET", f"{emulator.url}/v3.0/{CARBERRY}/notification-permission", token, JSON)
    assert listed.json()["notification"] == []


def test_the_sample_document_is_accepted(emulator, orcid_model_dir: Path):
    sample = (orcid_model_dir / "notification_3.0/samples/notification-permission-3.0.xml")
    data = sample.read_bytes().replace(b' put-code="1"', b"")
    assert post(emulator, premium(emulator), data=data).status_code == 201


def test_json_posts_work_too(emulator):
    token = premium(emulator)
    document = {
        "notification-type": "permission",
        "authorization-url": {"path": "/oauth/authorize?client_id=APP-X&response_type=code"},
        "notification-subject": "your degree",
        "notification-intro": "Hello",
        "items": {"item": [{"item-type": "education", "item-name": "PhD, Brown"}]},
    }
    response = requests.post(f"{emulator.url}/v3.0/{OKAFOR}/notification-permission",
                             json=document, timeout=10, headers={
                                 "Content-Type": JSON, "Accept": JSON,
                                 "Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    stored = call("GET", response.headers["Location"], token, JSON).json()
    # A path alone gets ORCID's base URL (the emulator's here).
    assert stored["authorization-url"]["uri"] == (
        f"{emulator.url}/oauth/authorize?client_id=APP-X&response_type=code")


def test_the_inbox_shows_the_request_and_its_link_marks_it_actioned(emulator):
    token = premium(emulator)
    location = post(emulator, token, data=body(uri="http://127.0.0.1:9/landing?x=1&amp;y=2")
                    ).headers["Location"]
    put_code = location.rsplit("/", 1)[1]
    with requests.Session() as browser:
        browser.post(f"{emulator.url}/signin", data={
            "username": "josiah@example.edu", "password": "carberry-1",
            "csrf_token": csrf(browser, emulator)}, timeout=10)
        page = browser.get(f"{emulator.url}/console/inbox", timeout=10).text
        assert "your thesis" in page and "Add your thesis to ORCID" in page
        assert "Voces de frontera" in page and "Demo Thesis Repository" in page
        follow = browser.get(f"{emulator.url}/console/inbox/{put_code}/action", timeout=10,
                             allow_redirects=False)
        assert follow.status_code == 302
        stored = call("GET", location, token, JSON).json()
        assert follow.headers["Location"] == stored["authorization-url"]["uri"]
        assert stored["read-date"] and stored["actioned-date"]
        # A read notification can no longer be archived through the API (9009) ...
        assert call("DELETE", location, token, JSON).json()["error-code"] == 9009
        # ... but the researcher can archive it; it then leaves the default view.
        browser.post(f"{emulator.url}/console/inbox/{put_code}/archive", timeout=10,
                     data={"csrf_token": csrf(browser, emulator, "/console/inbox")})
        assert "Voces de frontera" not in browser.get(f"{emulator.url}/console/inbox",
                                                      timeout=10).text
        assert "Voces de frontera" in browser.get(f"{emulator.url}/console/inbox?archived=1",
                                                  timeout=10).text


def csrf(browser, emulator, path="/signin") -> str:
    page = browser.get(f"{emulator.url}{path}", timeout=10).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_clients_document_is_valid_and_read_back(emulator, orcid_schemas):
    notification = PermissionNotification(
        authorization_url="https://site.example.edu/orcid/inbox/abc", subject="your thesis",
        intro="Hola", items=[NotificationItem("work", "Voces de frontera",
                                              ExternalId("doi", "10.5555/x.1"))])
    orcid_schemas.validate(notification.to_xml())
    client = ORCIDClient(emulator.client_id, emulator.client_secret, environment="emulator",
                         emulator_url=emulator.url)
    try:
        token = premium(emulator)
        put_code = client.add_permission_notification(OKAFOR, token, notification)
        read = client.read_permission_notification(OKAFOR, token, put_code)
        assert (read.subject, read.intro, read.authorization_url) == (
            "your thesis", "Hola", "https://site.example.edu/orcid/inbox/abc")
        assert [i.name for i in read.items] == ["Voces de frontera"]
        assert [n.put_code for n in client.list_permission_notifications(OKAFOR, token)] == [
            put_code]
        assert client.archive_permission_notification(OKAFOR, token, put_code).archived
    finally:
        client.close()
    with pytest.raises(ValidationError):
        PermissionNotification("https://x.example", "s", "i", items=[]).to_xml()

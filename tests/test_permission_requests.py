"""ORCID inbox permission requests (issue 16 item 3): sent through the emulator's notification
API, shown in the researcher's inbox, and followed back to a connection on the site."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from flask_orcid import ConfigurationError
from flask_orcid.protocol.notifications import NotificationItem
from flask_orcid.sync import permission_requests as table
from tests.outbox_support import new_researcher, thesis
from tests.plugins.app import db, orcid

ITEMS = [NotificationItem("work", "Voces de frontera (thesis)")]


def send(app, orcid_id, **options):
    with app.test_request_context("/"):
        return orcid.request_permission(orcid_id, **options)


def rows(app):
    with app.app_context():
        model = orcid._models().PermissionRequest
        return [(r.orcid, r.user_key, r.reason, r.status, r.put_code, r.error)
                for r in db.session.execute(sa.select(model).order_by(model.id)).scalars()]


def inbox_link(emulator, browser, researcher) -> tuple[int, str]:
    """Sign in to the emulator as ``researcher``, open the inbox, follow the request's
    button; returns its put-code and where the emulator sends the browser."""
    page = browser.get(f"{emulator.url}/signin", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    browser.post(f"{emulator.url}/signin", timeout=10, data={
        "username": researcher["email"], "password": researcher["password"],
        "csrf_token": csrf})
    inbox = browser.get(f"{emulator.url}/console/inbox", timeout=10).text
    match = re.search(r'href="/console/inbox/(\d+)/action"', inbox)
    assert match, inbox[:2000]
    followed = browser.get(f"{emulator.url}/console/inbox/{match.group(1)}/action",
                           timeout=10, allow_redirects=False)
    assert followed.status_code == 302
    return int(match.group(1)), followed.headers["Location"]


def test_off_unless_the_client_has_the_premium_scope(make_app, emulator):
    app = make_app()
    researcher = new_researcher(emulator)
    with pytest.raises(ConfigurationError, match="ORCID_PREMIUM_NOTIFICATIONS"):
        send(app, researcher["orcid"], items=ITEMS)
    result = app.test_cli_runner().invoke(args=["orcid", "request-permission",
                                                researcher["orcid"]])
    assert result.exit_code != 0 and "premium" in result.output.lower()
    assert requests.get(f"{emulator.url}/_emulator/notifications", timeout=10).json() == []


def test_an_ordinary_member_gets_orcids_refusal_recorded(make_app, emulator):
    ordinary = emulator.new_client("An ordinary member")
    app = make_app(ORCID_PREMIUM_NOTIFICATIONS=True, ORCID_CLIENT_ID=ordinary["client_id"],
                   ORCID_CLIENT_SECRET=ordinary["client_secret"],
                   ORCID_EMULATOR_URL=emulator.url)
    researcher = new_researcher(emulator)
    with pytest.raises(Exception, match="premium-notification|invalid_scope"):
        send(app, researcher["orcid"], items=ITEMS)
    assert rows(app)[0][3] == table.FAILED


def test_an_inbox_request_leads_to_a_connection(make_app, make_user, emulator):
    app = make_app(ORCID_PREMIUM_NOTIFICATIONS=True)
    researcher = new_researcher(emulator, "Revoked", "Researcher")
    user = make_user(app, email=researcher["email"])
    row = send(app, researcher["orcid"], user_key=str(user.id), reason="revoked",
               subject="your thesis", items=ITEMS)
    assert rows(app) == [(researcher["orcid"], str(user.id), "revoked", "sent", row.put_code,
                          None)]
    stored = requests.get(f"{emulator.url}/_emulator/notifications",
                          params={"orcid": researcher["orcid"]}, timeout=10).json()
    assert [n["notification-subject"] for n in stored] == ["your thesis"]
    assert stored[0]["items"]["item"][0]["item-name"] == "Voces de frontera (thesis)"
    site = app.test_client()  # a browser with nobody signed in on the site
    with requests.Session() as browser:
        put_code, link = inbox_link(emulator, browser, researcher)
        assert put_code == row.put_code
        assert urlsplit(link).path.startswith("/orcid/inbox/")
        start = site.get(urlsplit(link).path)
        assert start.status_code == 302 and start.headers["Location"].startswith(emulator.url)
        assert f"orcid={researcher['orcid']}" in start.headers["Location"]
        callback = emulator.consent(browser, start.headers["Location"], researcher["email"],
                                    researcher["password"])
    parts = urlsplit(callback)
    done = site.get(f"{parts.path}?{parts.query}")
    assert done.status_code == 302 and done.headers["Location"].endswith("/orcid/inbox/done")
    assert "connected" in site.get("/orcid/inbox/done").get_data(as_text=True)
    with app.app_context():
        account = orcid.get_account(str(user.id))
        assert account is not None and account.orcid == researcher["orcid"]
    assert rows(app)[0][3] == table.CONNECTED
    # ORCID holds the grant, and the request shows as read and actioned.
    tokens = emulator.tokens(orcid=researcher["orcid"], client_id=emulator.client_id)
    assert any(t["status"] == "active" for t in tokens)
    after = requests.get(f"{emulator.url}/_emulator/notifications",
                         params={"orcid": researcher["orcid"]}, timeout=10).json()[0]
    assert after["actioned-date"] and after["read-date"]
    # The link is spent: a second use explains instead of connecting again.
    again = site.get(urlsplit(link).path)
    assert again.status_code == 400 and "expired or was already used" in again.get_data(
        as_text=True)


def test_signing_in_as_another_id_stores_nothing(make_app, make_user, emulator):
    app = make_app(ORCID_PREMIUM_NOTIFICATIONS=True)
    researcher = new_researcher(emulator)
    someone_else = new_researcher(emulator)
    user = make_user(app, email=researcher["email"])
    send(app, researcher["orcid"], user_key=str(user.id), items=ITEMS)
    site = app.test_client()
    with requests.Session() as browser:
        _code, link = inbox_link(emulator, browser, researcher)
        start = site.get(urlsplit(link).path)
        browser.post(f"{emulator.url}/signout", timeout=10)
        callback = emulator.consent(requests.Session(), start.headers["Location"],
                                    someone_else["email"], someone_else["password"])
    parts = urlsplit(callback)
    refused = site.get(f"{parts.path}?{parts.query}")
    page = site.get(parts.path) if refused.status_code == 302 else refused
    assert "another iD" in page.get_data(as_text=True)
    with app.app_context():
        assert orcid.get_account(str(user.id)) is None
    assert rows(app)[0][3] == table.SENT  # still usable by the right person


def test_cli_sends_the_users_outbox_items(make_app, make_user, emulator):
    app = make_app(ORCID_PREMIUM_NOTIFICATIONS=True)
    researcher = new_researcher(emulator)
    user = make_user(app, email=researcher["email"])
    with app.app_context():
        orcid.publish(str(user.id), key="thesis:1", item=thesis(1, "A thesis on tides"))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=[
        "orcid", "request-permission", researcher["orcid"], "--user", str(user.id),
        "--reason", "bounced"])
    assert result.exit_code == 0, result.output
    assert "Sent permission request" in result.output
    stored = requests.get(f"{emulator.url}/_emulator/notifications",
                          params={"orcid": researcher["orcid"]}, timeout=10).json()
    assert stored[0]["items"]["item"] == [{"item-type": "work", "item-name": "A thesis on tides",
                                           "external-id": None}]
    assert rows(app)[0][2:4] == ("bounced", "sent")

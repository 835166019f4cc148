"""Flask-WTF's CSRFProtect on the host (issue 10): the extension's forms carry Flask-WTF's token
and pass its check; a forged POST is refused; ORCID's webhook stays exempt. One token, not two."""

from __future__ import annotations

import re

import pytest
from flask import session
from flask_wtf.csrf import CSRFProtect

from flask_orcid.sync import webhooks
from tests.outbox_support import publish, row, thesis
from tests.plugins.app import User, db, orcid

CARBERRY = "josiah@example.edu"
CARBERRY_ID = "0000-0002-1825-0097"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

OFFLINE = {
    "ORCID_EMULATOR_URL": "http://127.0.0.1:9",
    "ORCID_CLIENT_ID": "APP-OFFLINE00000001",
    "ORCID_CLIENT_SECRET": "offline-secret",
    "ORCID_WEBHOOK_SECRET": "webhook-secret-for-tests",
}


def _token(client, url: str = "/orcid/") -> str:
    page = client.get(url).get_data(as_text=True)
    match = TOKEN_RE.search(page)
    assert match, page
    return match.group(1)


def _tokens(emulator) -> list[str]:
    return [t["status"] for t in emulator.tokens(orcid=CARBERRY_ID)
            if t["client_id"] == emulator.client_id]


@pytest.fixture
def csrf_app(make_app):
    app = make_app()
    CSRFProtect(app)
    return app


@pytest.fixture
def admin_hook(monkeypatch):
    monkeypatch.setattr(orcid, "_admin_checker", lambda: bool(session.get("admin")))


def _user(app) -> int:
    with app.app_context():
        user = User(email=CARBERRY, given_names="Josiah", family_names="Carberry")
        db.session.add(user)
        db.session.commit()
        return user.id


def _login(client, user_id: int, admin: bool = False) -> None:
    with client.session_transaction() as sess:
        sess["user_id"] = user_id
        sess["admin"] = admin


def test_disconnect_works_with_csrfprotect_and_forgeries_are_refused(csrf_app, connect,
                                                                     emulator):
    client = csrf_app.test_client()
    user_id = _user(csrf_app)
    _login(client, user_id)
    assert connect(client, CARBERRY).status_code == 302
    assert _tokens(emulator) == ["active"]

    for forged in ({}, {"csrf_token": "forged"}):
        assert client.post("/orcid/disconnect", data=forged).status_code == 400
    with csrf_app.app_context():
        assert orcid.get_account(str(user_id)) is not None
    assert _tokens(emulator) == ["active"]

    token = _token(client, "/orcid/disconnect/confirm")
    with client.session_transaction() as sess:
        assert "_orcid_csrf" not in sess  # one token mechanism: Flask-WTF's
    response = client.post("/orcid/disconnect", data={"csrf_token": token})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "What stays on your ORCID record" in response.get_data(as_text=True)
    with csrf_app.app_context():
        assert orcid.get_account(str(user_id)) is None
    assert _tokens(emulator) == ["revoked"]


def test_resend_and_admin_retry_work_with_csrfprotect(make_app, admin_hook):
    app = make_app(**OFFLINE)
    CSRFProtect(app)
    user_id = _user(app)
    publish(app, str(user_id), "thesis:1", thesis(1))
    with app.app_context():
        item = orcid.item_state(str(user_id), "thesis:1")
        item.state, item.put_code = "removed_by_researcher", 41
        db.session.commit()
    client = app.test_client()
    _login(client, user_id, admin=True)
    token = _token(client, "/orcid/items")
    assert client.post("/orcid/items/resend", data={"key": "thesis:1"}).status_code == 400
    assert row(app, str(user_id), "thesis:1").state == "removed_by_researcher"
    response = client.post("/orcid/items/resend", data={"key": "thesis:1", "csrf_token": token})
    assert response.status_code == 302
    assert row(app, str(user_id), "thesis:1").state == "pending"

    with app.app_context():
        item = orcid.item_state(str(user_id), "thesis:1")
        item.state, item.park_reason = "parked", "rejected"
        db.session.commit()
    token = _token(client, "/orcid/admin")
    assert client.post("/orcid/admin/retry", data={"parked": "1",
                                                   "csrf_token": "forged"}).status_code == 400
    assert row(app, str(user_id), "thesis:1").state == "parked"
    response = client.post("/orcid/admin/retry", data={"parked": "1", "csrf_token": token})
    assert response.status_code == 302
    assert row(app, str(user_id), "thesis:1").state == "pending"


def test_the_webhook_stays_exempt(make_app):
    app = make_app(**OFFLINE)
    CSRFProtect(app)
    orcid_id = CARBERRY_ID
    sig = webhooks.signature(app.config, orcid_id)
    assert app.test_client().post(f"/orcid/webhook/{orcid_id}/{sig}").status_code == 204


def test_without_the_default_check_the_extension_validates_flask_wtfs_token(make_app):
    """``WTF_CSRF_CHECK_DEFAULT = False``: views call ``csrf.protect()`` themselves; the
    extension's forms still refuse a forgery, with its own explanatory page."""
    app = make_app(WTF_CSRF_CHECK_DEFAULT=False, **OFFLINE)
    CSRFProtect(app)
    user_id = _user(app)
    publish(app, str(user_id), "thesis:1", thesis(1))
    with app.app_context():
        item = orcid.item_state(str(user_id), "thesis:1")
        item.state, item.put_code = "removed_by_researcher", 41
        db.session.commit()
    client = app.test_client()
    _login(client, user_id)
    token = _token(client, "/orcid/items")
    refused = client.post("/orcid/items/resend", data={"key": "thesis:1", "csrf_token": "x"})
    assert refused.status_code == 400
    assert "Nothing was changed" in refused.get_data(as_text=True)
    assert client.post("/orcid/items/resend",
                       data={"key": "thesis:1", "csrf_token": token}).status_code == 302


def test_https_forms_send_a_same_origin_referer_that_flask_wtf_accepts(make_app, admin_hook):
    """Over HTTPS Flask-WTF wants a same-origin Referer; the pages holding the extension's
    forms must let the browser send one (only to this site); the OAuth pages still send none."""
    app = make_app(**OFFLINE)
    CSRFProtect(app)
    user_id = _user(app)
    client = app.test_client()
    _login(client, user_id, admin=True)
    base = "https://localhost"
    for path in ("/orcid/", "/orcid/items", "/orcid/admin"):
        page = client.get(path, base_url=base)
        assert page.headers["Referrer-Policy"] == "same-origin", path
    assert client.get("/orcid/connect", base_url=base).headers["Referrer-Policy"] == "no-referrer"
    token = TOKEN_RE.search(client.get("/orcid/admin", base_url=base)
                            .get_data(as_text=True)).group(1)
    data = {"parked": "1", "csrf_token": token}
    assert client.post("/orcid/admin/retry", data=data, base_url=base).status_code == 400
    response = client.post("/orcid/admin/retry", data=data, base_url=base,
                           headers={"Referer": f"{base}/orcid/admin"})
    assert response.status_code == 302


def test_without_csrfprotect_the_pages_keep_no_referrer_and_their_own_token(make_app,
                                                                          admin_hook):
    app = make_app(**OFFLINE)
    client = app.test_client()
    _login(client, _user(app), admin=True)
    page = client.get("/orcid/admin")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    token = TOKEN_RE.search(page.get_data(as_text=True)).group(1)
    with client.session_transaction() as sess:
        assert sess["_orcid_csrf"] == token

"""Finding 11: flows in flight cannot grow the session cookie past what browsers keep."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from flask_orcid.oauth_state import MAX_STATES_BYTES


@pytest.mark.parametrize("length", [400, 1000, 2048])
def test_five_flows_with_long_next_keep_the_cookie_small(app, client, authorize, make_user,
                                                         login, length):
    login(client, make_user(app, email="j@example.edu"))
    for i in range(5):
        nxt = f"/deposit?n={i}&pad=" + "x" * length
        assert client.get("/orcid/connect?next=" + quote(nxt, safe="")).status_code == 302
        assert len(client.get_cookie("session").value) < 4000
    with client.session_transaction() as sess:
        assert 1 <= len(sess["_orcid_states"]) <= 5
    # and a sign-in still completes
    response = client.get(authorize(client, "josiah@example.edu", next="/deposit"))
    assert response.status_code == 302 and response.headers["Location"] == "/deposit"


def test_the_budget_is_below_a_cookie(app):
    assert MAX_STATES_BYTES <= 4096 // 2

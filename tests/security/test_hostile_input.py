"""Finding 7: hostile input gets a 4xx with a clear message, never a 500."""

from __future__ import annotations

import json

import pytest
import responses

from flask_orcid.errors import ORCIDError
from flask_orcid.protocol.client import ORCIDClient
from flask_orcid.protocol.oidc import IDTokenError, fetch_jwks
from flask_orcid.protocol.xml_reader import parse_error

BASE = "http://orcid.test"
DEEP_OBJECT = b'{"a":' * 20000 + b"1" + b"}" * 20000
DEEP_LIST = b"[" * 60000 + b"]" * 60000


@pytest.mark.parametrize("page", ["1e23", "100000000000000000000000", "-1", "x", "\u00b2",
                                  "1" * 500, "9999999"])
def test_hostile_page_numbers_are_a_clear_400(make_repo, page):
    client = make_repo().test_client()
    response = client.get("/theses", query_string={"page": page})
    assert response.status_code == 400
    assert "could not be understood" in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["1", "2", "999999"])
def test_plain_page_numbers_work(make_repo, page):
    assert make_repo().test_client().get(f"/theses?page={page}").status_code == 200


@pytest.mark.parametrize("url", [
    "/lang/en?next=/%0d%0aSet-Cookie:%20x=1",
    "/account/login?next=/%0d%0a/evil.example",
    "/account/register?next=/%0a",
    "/orcid/connect?next=/%0d%0aX:%20y",
    "/theses?q=%0d%0a%00",
])
def test_crlf_in_next_is_not_a_500(make_repo, url):
    response = make_repo().test_client().get(url)
    assert response.status_code < 500
    assert "\n" not in response.headers.get("Location", "")


@pytest.mark.parametrize("body", [DEEP_OBJECT, DEEP_LIST, b"[" * 30000])
def test_parse_error_never_raises_on_deep_json(body):
    assert parse_error(body, "application/json") is not None
    assert parse_error(body, None) is not None


@pytest.mark.parametrize("body", [DEEP_OBJECT, DEEP_LIST])
def test_deeply_nested_token_answer_is_an_orcid_error(body):
    client = ORCIDClient("APP-1", "secret", environment="emulator", emulator_url=BASE,
                         timeout=(1.0, 2.0))
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, f"{BASE}/oauth/token", body=body, status=200,
                 content_type="application/json")
        with pytest.raises(ORCIDError):
            client.exchange_code("Ab12Cd", "http://localhost/orcid/callback")
    client.close()


def test_deeply_nested_key_set_is_refused():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{BASE}/oauth/jwks", body=DEEP_OBJECT, status=200,
                 content_type="application/json")
        with pytest.raises(IDTokenError):
            fetch_jwks(f"{BASE}/oauth/jwks", (1.0, 2.0))


def test_deep_json_really_is_too_deep_for_python():
    with pytest.raises(RecursionError):
        json.loads(DEEP_OBJECT)

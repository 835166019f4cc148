"""The API client at the HTTP boundary (``responses``): what goes on the wire, how ORCID's
answers become results or typed errors, retries and their limits, and that no token, code
or secret ever leaks into an exception, a repr, a log line or a metrics callback."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs

import pytest
import requests
import responses
from lxml import etree

from flask_orcid import (
    Affiliation,
    APIError,
    BadRequestError,
    BulkResult,
    CallInfo,
    ConflictError,
    DuplicateError,
    ExternalId,
    ForbiddenError,
    FuzzyDate,
    InsufficientScopeError,
    InvalidTokenError,
    NotFoundError,
    NotSourceError,
    OAuthError,
    ORCIDClient,
    ORCIDTimeout,
    Organization,
    RateLimitedError,
    RateLimiter,
    RecordDeactivatedError,
    RecordDeprecatedError,
    RecordLockedError,
    RecordNotClaimedError,
    ServerError,
    TransportError,
    ValidationError,
    VisibilityChangeError,
    Work,
    WorksLimitError,
)
from flask_orcid.protocol.client import (
    existing_put_code,
    parse_retry_after,
    put_code_from_location,
    redact,
)

BASE = "http://127.0.0.1:5999"
API = f"{BASE}/v3.0"
ORCID = "0000-0002-1825-0097"
WORK = f"{API}/{ORCID}/work"  # the single-work endpoint
WORK_PATH = f"/v3.0/{ORCID}/work"
TOKEN = "f5af9f51-07e6-4332-8f1a-c0c11c1e3728"
SECRET = "demo-secret-0001"
CLIENT_ID = "APP-DEMO000000000001"
XML = "application/vnd.orcid+xml"


# ---------------------------------------------------------------------------- helpers


@pytest.fixture
def client() -> ORCIDClient:
    c = ORCIDClient(
        CLIENT_ID,
        SECRET,
        environment="emulator",
        emulator_url=BASE,
        timeout=(1.0, 2.0),
        max_retries=3,
        backoff=0.001,
        rate=1000.0,
        burst=1000,
    )
    c.waits = []  # type: ignore[attr-defined]
    c.sleep = c.waits.append  # record the backoff instead of waiting
    return c


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def error_xml(status: int, code: int, developer: str, user: str = "Something is wrong.") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<error:error xmlns:error="http://www.orcid.org/ns/error">'
        f"<error:response-code>{status}</error:response-code>"
        f"<error:developer-message>{developer}</error:developer-message>"
        f"<error:user-message>{user}</error:user-message>"
        f"<error:error-code>{code}</error:error-code>"
        "<error:more-info>https://members.orcid.org/api/resources/troubleshooting</error:more-info>"
        "</error:error>"
    ).encode()


def thesis(handle: str = "1234/5678") -> Work:
    return Work(
        title="On the Psychoceramics of Cracked Pots",
        publication_date=FuzzyDate(2024, 6),
        external_ids=[ExternalId("handle", handle)],
    )


def education(**kw) -> Affiliation:
    return Affiliation(
        section="education",
        organization=Organization(
            name="Brown University",
            city="Providence",
            country="US",
            disambiguated_id="https://ror.org/05gq02987",
            disambiguation_source="ROR",
        ),
        role_title="PhD",
        start_date=FuzzyDate(2019, 9),
        **kw,
    )


# ---------------------------------------------------------------------------- the wire


def test_reads_send_accept_bearer_and_a_timeout_but_no_content_type(client, rsps, orcid_model_dir):
    sample = orcid_model_dir / "record_3.0/samples/read_samples/work-full-3.0.xml"
    rsps.get(f"{WORK}/733536", body=sample.read_bytes(), content_type=XML)
    work = client.read_work(ORCID, TOKEN, 733536)
    assert work.title
    request = rsps.calls[0].request
    assert request.headers["Accept"] == XML
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Content-Type" not in request.headers
    assert request.req_kwargs["timeout"] == (1.0, 2.0)


def test_add_work_posts_orcid_xml_and_returns_the_put_code_from_location(client, rsps):
    rsps.post(
        f"{API}/{ORCID}/work",
        status=201,
        headers={"Location": f"{WORK}/12345"},
    )
    assert client.add_work(ORCID, TOKEN, thesis()) == 12345
    request = rsps.calls[0].request
    assert request.headers["Content-Type"] == XML
    assert request.headers["Accept"] == XML
    root = etree.fromstring(request.body)
    assert root.tag == "{http://www.orcid.org/ns/work}work"
    assert root.get("put-code") is None  # never on POST (9024)


def test_add_affiliation_posts_to_its_section(client, rsps):
    rsps.post(
        f"{API}/{ORCID}/education",
        status=201,
        headers={"Location": f"https://api.orcid.org/v3.0/{ORCID}/education/54563"},
    )
    assert client.add_item(ORCID, TOKEN, education()) == 54563


def test_created_without_location_is_an_error_not_a_silent_none(client, rsps):
    rsps.post(f"{API}/{ORCID}/work", status=201)
    with pytest.raises(APIError, match="Location"):
        client.add_work(ORCID, TOKEN, thesis())


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (f"{WORK}/12345", 12345),
        (f"https://api.orcid.org/v3.0/{ORCID}/education/54563", 54563),
        (f"https://api.sandbox.orcid.org/v3.0/{ORCID}/employment/7/", 7),
        (f"{WORK_PATH}/987654321?x=1", 987654321),
        (f"https://api.orcid.org/v3.0/{ORCID}/work", None),
        ("", None),
        (None, None),
    ],
)
def test_put_code_from_location(location, expected):
    assert put_code_from_location(location) == expected


def test_update_puts_the_put_code_in_url_and_body(client, rsps):
    rsps.put(f"{WORK}/55", status=200, body=b"", content_type=XML)
    client.update_item(ORCID, TOKEN, thesis(), 55)
    body = etree.fromstring(rsps.calls[0].request.body)
    assert body.get("put-code") == "55"


def test_delete_by_kind_and_put_code(client, rsps):
    rsps.delete(f"{WORK}/55", status=204)
    rsps.delete(f"{API}/{ORCID}/employment/77", status=204)
    client.delete_item(ORCID, TOKEN, "work", 55)
    client.delete_item(ORCID, TOKEN, "employment", 77)
    assert [c.request.method for c in rsps.calls] == ["DELETE", "DELETE"]


def test_invalid_items_are_refused_before_anything_is_sent(client, rsps):
    with pytest.raises(ValidationError):
        client.add_work(ORCID, TOKEN, Work(title="", external_ids=[]))
    with pytest.raises(ValueError, match="ORCID iD"):
        client.read_works("0000-0002-1825-0097/../../oauth", TOKEN)
    with pytest.raises(ValueError, match="put-code"):
        client.delete_work(ORCID, TOKEN, "12/../13")
    with pytest.raises(ValueError, match="affiliation section"):
        client.read_affiliations(ORCID, TOKEN, "educations")
    assert len(rsps.calls) == 0
    assert client.request_count == 0


def test_works_by_put_codes_joins_codes_and_refuses_more_than_100(client, rsps):
    rsps.get(
        f"{API}/{ORCID}/works/1,2,3",
        body=b'<bulk:bulk xmlns:bulk="http://www.orcid.org/ns/bulk"/>',
        content_type=XML,
    )
    assert client.read_works_by_put_codes(ORCID, TOKEN, [1, 2, 3]) == []
    with pytest.raises(ValueError, match="100"):
        client.read_works_by_put_codes(ORCID, TOKEN, list(range(1, 102)))
    assert len(rsps.calls) == 1


def test_session_keeps_a_pool_big_enough_for_worker_threads(client):
    adapter = client.session.get_adapter(API)
    assert adapter._pool_maxsize >= 10
    assert adapter.max_retries.total == 0  # retries are the client's, not urllib3's


# ---------------------------------------------------------------------------- errors (§7)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, 9001, BadRequestError),
        (400, 9006, BadRequestError),
        (400, 9019, BadRequestError),
        (400, 9023, BadRequestError),
        (400, 9024, BadRequestError),
        (400, 9037, BadRequestError),
        (400, 9045, BadRequestError),
        (401, 9017, InvalidTokenError),
        (403, 9004, InsufficientScopeError),
        (403, 9005, InsufficientScopeError),
        (403, 9010, NotSourceError),
        (403, 9013, ForbiddenError),
        (403, 9035, VisibilityChangeError),
        (404, 9011, NotFoundError),
        (404, 9016, NotFoundError),
        (409, 9018, RecordLockedError),
        (409, 9021, DuplicateError),
        (409, 9025, ConflictError),
        (409, 9036, RecordNotClaimedError),
        (409, 9044, RecordDeactivatedError),
        (409, 9048, WorksLimitError),
        (413, 9006, BadRequestError),
    ],
)
def test_orcid_xml_error_bodies_become_typed_errors(client, rsps, status, code, cls):
    message = f"{status} Something: the developer message for {code}"
    rsps.get(
        f"{API}/{ORCID}/works",
        status=status,
        body=error_xml(status, code, message),
        content_type=XML,
    )
    with pytest.raises(cls) as info:
        client.read_works(ORCID, TOKEN)
    error = info.value
    assert type(error) is cls
    assert error.status == status
    assert error.error_code == code
    assert error.developer_message == message
    assert error.user_message == "Something is wrong."
    assert error.more_info.startswith("https://")
    assert str(code) in str(error)
    assert len(rsps.calls) == 1  # 4xx is never retried


def test_deprecated_record_names_the_primary_id(client, rsps):
    primary = "0000-0001-5109-3700"
    rsps.get(
        f"{API}/{ORCID}/record",
        status=301,
        body=error_xml(
            301,
            9007,
            f"301 Moved Permanently: This account is deprecated. Please refer to account: "
            f"https://orcid.org/{primary}. Deprecated: {ORCID}",
        ),
        content_type=XML,
    )
    with pytest.raises(RecordDeprecatedError) as info:
        client.read_record(ORCID, TOKEN)
    assert info.value.primary_orcid == primary
    assert len(rsps.calls) == 1  # not followed as a redirect


def test_json_401_invalid_token_is_redacted_everywhere(client, rsps, caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[CallInfo] = []
    client.on_response = seen.append
    rsps.get(
        f"{API}/{ORCID}/person",
        status=401,
        json={"error": "invalid_token", "error_description": f"Invalid access token: {TOKEN}"},
    )
    with pytest.raises(InvalidTokenError) as info:
        client.read_person(ORCID, TOKEN)
    error = info.value
    assert error.status == 401
    assert "Invalid access token" in str(error)
    for text in (str(error), repr(error), error.developer_message, caplog.text, repr(seen)):
        assert TOKEN not in text
    assert seen == [
        CallInfo("GET", "read_person", f"/v3.0/{ORCID}/person", 401, None, seen[0].duration_ms)
    ]


def test_json_401_redacts_a_token_that_is_not_a_uuid(client, rsps):
    token = "Xq7rT2pL9mNb4Vc"
    rsps.get(
        f"{API}/{ORCID}/works",
        status=401,
        json={"error": "invalid_token", "error_description": f"Invalid access token: {token}"},
    )
    with pytest.raises(InvalidTokenError) as info:
        client.read_works(ORCID, token)
    assert token not in str(info.value) and token not in repr(info.value)


def test_json_403_forbidden_is_a_missing_scope(client, rsps):
    rsps.post(
        f"{API}/{ORCID}/work",
        status=403,
        json={"error": "forbidden", "error_description": "Insufficient scope for this resource"},
    )
    with pytest.raises(InsufficientScopeError, match="Insufficient scope"):
        client.add_work(ORCID, TOKEN, thesis())


def test_html_page_instead_of_an_error_document_still_gives_a_typed_error(client, rsps):
    rsps.get(
        f"{API}/{ORCID}/works",
        status=403,
        body=b"<html><body>Oops an error happened!",
        content_type="text/html",
    )
    with pytest.raises(ForbiddenError):
        client.read_works(ORCID, TOKEN)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "409 Conflict: You have already added this activity (matched by external "
            "identifiers), please see element with put-code 1234567. If you are trying to edit "
            "the item, please use PUT instead of POST.",
            1234567,
        ),
        ("409 Conflict: ... please see element with put-code: 42.", 42),
        ("409 Conflict: ... see element with PUT-CODE 9", 9),
        (
            "409 Conflict: You have already added this activity (matched by external "
            "identifiers.) If you are trying to edit the item, please use PUT instead of POST.",
            None,
        ),
    ],
)
def test_duplicate_error_carries_the_existing_put_code(client, rsps, message, expected):
    rsps.post(
        f"{API}/{ORCID}/work", status=409, body=error_xml(409, 9021, message), content_type=XML
    )
    with pytest.raises(DuplicateError) as info:
        client.add_work(ORCID, TOKEN, thesis())
    assert info.value.existing_put_code == expected
    assert existing_put_code(message) == expected


def test_duplicate_error_from_orcid_json_body(client, rsps):
    rsps.post(
        f"{API}/{ORCID}/work",
        status=409,
        json={
            "response-code": 409,
            "developer-message": "409 Conflict: please see element with put-code 777.",
            "user-message": "It is there already.",
            "error-code": 9021,
            "more-info": "https://members.orcid.org/api/resources/troubleshooting",
        },
    )
    with pytest.raises(DuplicateError) as info:
        client.add_work(ORCID, TOKEN, thesis())
    assert info.value.existing_put_code == 777


# ---------------------------------------------------------------------------- bulk


def test_bulk_add_gives_one_result_per_slot(client, rsps, orcid_model_dir):
    sample = orcid_model_dir / "record_3.0/samples/read_samples/bulk-work-err.xml"
    rsps.post(f"{API}/{ORCID}/works", status=200, body=sample.read_bytes(), content_type=XML)
    results = client.add_works(ORCID, TOKEN, [thesis("1/1"), thesis("1/2")])

    assert results[0] == BulkResult(0, put_code=156043, error=None)
    assert results[0].ok
    assert results[1].index == 1 and results[1].put_code is None and not results[1].ok
    assert isinstance(results[1].error, BadRequestError)
    assert results[1].error.error_code == 9037
    assert results[1].error.user_message == "Please specify a work type."

    sent = etree.fromstring(rsps.calls[0].request.body)
    assert sent.tag == "{http://www.orcid.org/ns/bulk}bulk"
    assert [child.tag for child in sent] == ["{http://www.orcid.org/ns/work}work"] * 2
    assert rsps.calls[0].request.headers["Content-Type"] == XML


def test_bulk_duplicate_slot_and_missing_slots(client, rsps):
    body = (
        b'<bulk:bulk xmlns:bulk="http://www.orcid.org/ns/bulk" '
        b'xmlns:error="http://www.orcid.org/ns/error">'
        b"<error:error><error:response-code>409</error:response-code>"
        b"<error:developer-message>409 Conflict: please see element with put-code 31."
        b"</error:developer-message><error:error-code>9021</error:error-code></error:error>"
        b"</bulk:bulk>"
    )
    rsps.post(f"{API}/{ORCID}/works", status=200, body=body, content_type=XML)
    results = client.add_works(ORCID, TOKEN, [thesis("1/1"), thesis("1/2")])
    assert isinstance(results[0].error, DuplicateError)
    assert results[0].error.existing_put_code == 31
    assert results[1].error is not None and results[1].put_code is None


def test_bulk_refuses_more_than_100_before_sending(client, rsps):
    with pytest.raises(ValueError, match="100"):
        client.add_works(ORCID, TOKEN, [thesis(f"1/{i}") for i in range(101)])
    with pytest.raises(ValidationError, match=r"works\[1\]"):
        client.add_works(ORCID, TOKEN, [thesis("1/1"), Work(title="")])
    assert len(rsps.calls) == 0


# ---------------------------------------------------------------------------- retries


def test_503_is_retried_with_growing_jittered_backoff_then_succeeds(client, rsps):
    url = f"{API}/{ORCID}/works"
    empty = b'<activities:works xmlns:activities="http://www.orcid.org/ns/activities"/>'
    rsps.get(url, status=503)
    rsps.get(url, status=502)
    rsps.get(url, status=200, body=empty, content_type=XML)
    assert client.read_works(ORCID, TOKEN) == []
    assert len(rsps.calls) == 3
    assert client.request_count == 3
    assert len(client.waits) == 2
    assert 0 <= client.waits[0] <= 0.001 and 0 <= client.waits[1] <= 0.002


def test_retries_stop_at_max_retries_with_the_typed_error(client, rsps):
    rsps.get(
        f"{API}/{ORCID}/works",
        status=500,
        body=error_xml(500, 9008, "Something went wrong in ORCID"),
        content_type=XML,
    )
    with pytest.raises(ServerError) as info:
        client.read_works(ORCID, TOKEN)
    assert info.value.error_code == 9008
    assert len(rsps.calls) == 1 + 3
    assert client.request_count == 4


def test_backoff_doubles_but_is_capped(client, rsps):
    client.backoff = 1.0
    client.max_backoff = 2.5
    client.max_retries = 6
    rsps.get(f"{API}/{ORCID}/works", status=502)
    with pytest.raises(ServerError):
        client.read_works(ORCID, TOKEN)
    assert len(client.waits) == 6
    bounds = [1.0, 2.0, 2.5, 2.5, 2.5, 2.5]
    assert all(0 <= wait <= bound for wait, bound in zip(client.waits, bounds, strict=True))


def test_429_retry_after_seconds_is_honoured_and_reported(client, rsps):
    rsps.get(
        f"{API}/{ORCID}/works",
        status=429,
        headers={"Retry-After": "7"},
        body=b"Too Many Requests",
        content_type="text/plain",
    )
    with pytest.raises(RateLimitedError) as info:
        client.read_works(ORCID, TOKEN)
    assert info.value.retry_after == 7.0
    assert client.waits == [7.0, 7.0, 7.0]


def test_retry_after_as_http_date(client, rsps):
    when = datetime.now(UTC) + timedelta(seconds=20)
    rsps.get(
        f"{API}/{ORCID}/works",
        status=503,
        headers={"Retry-After": format_datetime(when, usegmt=True)},
    )
    rsps.get(
        f"{API}/{ORCID}/works",
        status=200,
        body=b'<activities:works xmlns:activities="http://www.orcid.org/ns/activities"/>',
        content_type=XML,
    )
    client.read_works(ORCID, TOKEN)
    assert len(client.waits) == 1 and 17 <= client.waits[0] <= 20


def test_a_retry_after_beyond_the_cap_is_not_waited_for(client, rsps):
    rsps.get(f"{API}/{ORCID}/works", status=429, headers={"Retry-After": "86400"})
    with pytest.raises(RateLimitedError) as info:
        client.read_works(ORCID, TOKEN)
    assert info.value.retry_after == 86400
    assert client.waits == [] and len(rsps.calls) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_post_with_a_self_id_is_retried_and_a_landed_first_attempt_is_a_duplicate(client, rsps):
    # The first POST timed out on our side but reached ORCID; the retry meets ORCID's duplicate
    # check, which names the put-code: no second copy, and the caller can adopt it.
    url = f"{API}/{ORCID}/work"
    rsps.post(url, body=requests.exceptions.ReadTimeout("read timed out"))
    rsps.post(
        url,
        status=409,
        body=error_xml(409, 9021, "please see element with put-code 88"),
        content_type=XML,
    )
    with pytest.raises(DuplicateError) as info:
        client.add_work(ORCID, TOKEN, thesis())
    assert info.value.existing_put_code == 88
    assert len(rsps.calls) == 2


def test_post_without_a_self_id_is_not_retried(client, rsps):
    rsps.post(f"{API}/{ORCID}/education", status=503)
    with pytest.raises(RateLimitedError):
        client.add_affiliation(ORCID, TOKEN, education())
    assert len(rsps.calls) == 1
    assert client.waits == []


def test_timeouts_become_orcid_timeout_after_retries(client, rsps):
    rsps.get(f"{API}/{ORCID}/works", body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(ORCIDTimeout, match="did not answer"):
        client.read_works(ORCID, TOKEN)
    assert len(rsps.calls) == 4


def test_connection_errors_become_transport_errors(client, rsps):
    rsps.delete(f"{WORK}/5", body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(TransportError) as info:
        client.delete_work(ORCID, TOKEN, 5)
    assert not isinstance(info.value, ORCIDTimeout)
    assert len(rsps.calls) == 4


def test_a_real_unreachable_port_is_a_transport_error():
    # Nothing listens on port 9 of the loopback: a real refused connection, no mock.
    c = ORCIDClient(
        CLIENT_ID,
        SECRET,
        environment="emulator",
        emulator_url="http://127.0.0.1:9",
        max_retries=1,
        backoff=0.001,
        timeout=(0.5, 0.5),
    )
    with pytest.raises(TransportError):
        c.read_works(ORCID, TOKEN)
    assert c.request_count == 2


def test_on_response_sees_every_attempt(client, rsps):
    seen: list[CallInfo] = []
    client.on_response = seen.append
    rsps.put(f"{WORK}/3", status=504)
    rsps.put(f"{WORK}/3", status=200, body=b"", content_type=XML)
    client.update_work(ORCID, TOKEN, 3, thesis())
    assert [(i.method, i.operation, i.url_path, i.status) for i in seen] == [
        ("PUT", "update_work", f"{WORK_PATH}/3", 504),
        ("PUT", "update_work", f"{WORK_PATH}/3", 200),
    ]
    assert all(i.duration_ms >= 0 for i in seen)


def test_a_shared_rate_limiter_counts_both_clients(rsps):
    limiter = RateLimiter(rate=1000.0, burst=100)
    one, two = (
        ORCIDClient(
            CLIENT_ID, SECRET, environment="emulator", emulator_url=BASE, rate_limiter=limiter
        )
        for _ in range(2)
    )
    rsps.delete(f"{WORK}/1", status=204)
    one.delete_work(ORCID, TOKEN, 1)
    two.delete_work(ORCID, TOKEN, 1)
    two.delete_work(ORCID, TOKEN, 1)
    assert (one.request_count, two.request_count, limiter.request_count) == (1, 2, 3)


# ---------------------------------------------------------------------------- OAuth


def test_code_exchange_is_a_client_secret_post_form(client, rsps):
    answer = {
        "access_token": TOKEN,
        "token_type": "bearer",
        "refresh_token": "r-7c1d9",
        "expires_in": 631138518,
        "scope": "/activities/update /read-limited",
        "name": "Josiah Carberry",
        "orcid": ORCID,
    }
    rsps.post(f"{BASE}/oauth/token", json=answer)
    assert client.exchange_code("Wk1Yjn", "http://127.0.0.1:5000/orcid/callback") == answer
    request = rsps.calls[0].request
    assert request.headers["Accept"] == "application/json"
    assert "Authorization" not in request.headers
    form = parse_qs(request.body)
    assert form == {
        "client_id": [CLIENT_ID],
        "client_secret": [SECRET],
        "grant_type": ["authorization_code"],
        "code": ["Wk1Yjn"],
        "redirect_uri": ["http://127.0.0.1:5000/orcid/callback"],
    }


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 503},
        {"status": 500},
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        {"body": requests.exceptions.ConnectionError("reset")},
    ],
)
def test_code_exchange_is_never_retried(client, rsps, failure):
    # A code is single-use; presenting it twice revokes every token issued from it.
    rsps.post(f"{BASE}/oauth/token", **failure)
    with pytest.raises((APIError, TransportError)):
        client.exchange_code("Wk1Yjn", "http://127.0.0.1:5000/cb")
    assert len(rsps.calls) == 1
    assert client.waits == []


def test_oauth_errors_hide_the_code_and_the_secret(client, rsps, caplog):
    caplog.set_level(logging.DEBUG)
    code = "Q8xZ2k"
    rsps.post(
        f"{BASE}/oauth/token",
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": f"Invalid authorization code: {code} (client {SECRET})",
        },
    )
    with pytest.raises(OAuthError) as info:
        client.exchange_code(code, "http://127.0.0.1:5000/cb")
    error = info.value
    assert (error.error, error.status) == ("invalid_grant", 400)
    assert "Invalid authorization code" in error.description
    for text in (str(error), repr(error), error.description, caplog.text, repr(client)):
        assert code not in text
        assert SECRET not in text


def test_refresh_and_client_credentials_are_retried_on_server_trouble(client, rsps):
    rsps.post(f"{BASE}/oauth/token", status=502)
    rsps.post(f"{BASE}/oauth/token", json={"access_token": "new", "scope": "/read-public"})
    assert client.client_credentials()["access_token"] == "new"
    assert parse_qs(rsps.calls[1].request.body)["scope"] == ["/read-public"]

    rsps.post(f"{BASE}/oauth/token", json={"access_token": "newer"})
    client.refresh_token("r-7c1d9", scope="/read-limited")
    form = parse_qs(rsps.calls[-1].request.body)
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == ["r-7c1d9"] and form["scope"] == ["/read-limited"]


def test_token_answer_without_access_token_is_refused(client, rsps):
    rsps.post(f"{BASE}/oauth/token", body=b"<html>login</html>", content_type="text/html")
    with pytest.raises(OAuthError, match="no access token"):
        client.client_credentials("/webhook")


def test_revoke_posts_the_token_and_reports_refusals(client, rsps):
    rsps.post(f"{BASE}/oauth/revoke", status=200)
    client.revoke(TOKEN)
    assert parse_qs(rsps.calls[0].request.body)["token"] == [TOKEN]
    rsps.post(
        f"{BASE}/oauth/revoke",
        status=401,
        json={"error": "invalid_client", "error_description": "Bad client credentials"},
    )
    with pytest.raises(OAuthError) as info:
        client.revoke(TOKEN)
    assert info.value.status == 401 and TOKEN not in str(info.value)


def test_client_repr_and_logs_never_show_secrets_or_tokens(client, rsps, caplog):
    caplog.set_level(logging.DEBUG, logger="flask_orcid.protocol.client")
    rsps.post(f"{BASE}/oauth/token", json={"access_token": TOKEN, "refresh_token": "r-7c1d9"})
    rsps.get(f"{API}/{ORCID}/works", status=503)
    client.client_credentials()
    with pytest.raises(RateLimitedError):
        client.read_works(ORCID, TOKEN)
    assert SECRET not in repr(client) and CLIENT_ID in repr(client)
    assert caplog.records, "calls are logged"
    for secret in (SECRET, TOKEN, "r-7c1d9"):
        assert secret not in caplog.text
    assert f"/v3.0/{ORCID}/works" in caplog.text  # the iD and path are what we log


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("Invalid access token: abc123def", [], "Invalid access token: [REDACTED]"),
        ("Invalid authorization code: Wk1Yjn", [], "Invalid authorization code: [REDACTED]"),
        ("bad secret s3cr3t-value here", ["s3cr3t-value"], "bad secret [REDACTED] here"),
        (
            "please see element with put-code: 1234567",
            [],
            "please see element with put-code: 1234567",
        ),
        ("ORCID error code: 9021", [], "ORCID error code: 9021"),
        ("code: 123456", [], "code: [REDACTED]"),
        (
            "the provided token/code is invalid or expired",
            [],
            "the provided token/code is invalid or expired",
        ),
    ],
)
def test_redact(text, secrets, expected):
    assert redact(text, secrets) == expected


# ---------------------------------------------------------------------------- webhooks


def test_webhook_register_and_unregister(client, rsps, caplog):
    caplog.set_level(logging.DEBUG, logger="flask_orcid.protocol.client")
    callback = f"https://repo.example.edu/orcid/webhook/{ORCID}?sig=deadbeefcafe"
    encoded = (
        "https%3A%2F%2Frepo.example.edu%2Forcid%2Fwebhook%2F" + ORCID + "%3Fsig%3Ddeadbeefcafe"
    )
    url = f"{BASE}/{ORCID}/webhook/{encoded}"
    rsps.put(url, status=201)
    rsps.put(url, status=204)
    rsps.delete(url, status=204)
    assert client.register_webhook(ORCID, TOKEN, callback) is True
    assert client.register_webhook(ORCID, TOKEN, callback) is False
    client.unregister_webhook(ORCID, TOKEN, callback)
    assert [c.request.method for c in rsps.calls] == ["PUT", "PUT", "DELETE"]
    assert "/v3.0/" not in rsps.calls[0].request.url
    assert "deadbeefcafe" not in caplog.text


def test_webhook_unknown_is_not_found(client, rsps):
    rsps.delete(
        re.compile(rf"{BASE}/{ORCID}/webhook/.*"),
        status=404,
        body=error_xml(404, 9028, "Webhook not found"),
        content_type=XML,
    )
    with pytest.raises(NotFoundError) as info:
        client.unregister_webhook(ORCID, TOKEN, "https://repo.example.edu/hook")
    assert info.value.error_code == 9028


def test_endpoints_come_from_the_configuration():
    prod = ORCIDClient(CLIENT_ID, SECRET)
    sandbox = ORCIDClient(CLIENT_ID, SECRET, environment="sandbox")
    assert prod.endpoints.member_api.startswith("https://api.orcid.org")
    assert sandbox.endpoints.token_url.startswith("https://sandbox.orcid.org")
    with pytest.raises(ValueError):
        ORCIDClient(CLIENT_ID, "")


# ---------------------------------------------------------------------------- real emulator


def _hammer(client: ORCIDClient, token: str, calls: int, threads: int = 8) -> list[object]:
    """``calls`` reads of /works from ``threads`` threads; returns each call's result or error."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_: int) -> object:
        try:
            return client.read_works(ORCID, token)
        except APIError as exc:
            return exc

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(calls)))


def test_the_rate_limiter_keeps_threads_inside_the_emulators_limit(emulator):
    # The emulator answers 503 beyond its burst, like ORCID. Our bucket, a little below its
    # limit, lets 8 threads through without one 503; the same load unthrottled gets refused.
    emulator.limits(rate=50, burst=10)
    throttled = ORCIDClient(
        emulator.client_id,
        emulator.client_secret,
        environment="emulator",
        emulator_url=emulator.url,
        rate=40.0,
        burst=8,
        max_retries=0,
    )
    token = throttled.client_credentials()["access_token"]
    results = _hammer(throttled, token, 40)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert throttled.request_count == 41

    unthrottled = ORCIDClient(
        emulator.client_id,
        emulator.client_secret,
        environment="emulator",
        emulator_url=emulator.url,
        rate=10_000.0,
        burst=10_000,
        max_retries=0,
    )
    results = _hammer(unthrottled, token, 120)
    refused = [r for r in results if isinstance(r, RateLimitedError)]
    assert refused and all(r.status == 503 for r in refused)

"""The emulator's search: ORCID's query syntax on public data only, its limits, XML and JSON."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from flask_orcid.emulator.seed import CARBERRY, FERNANDEZ, OKAFOR, RAMAN, RIVERA
from flask_orcid.protocol.client import ORCIDClient
from flask_orcid.protocol.search import institution_query

XML = "application/vnd.orcid+xml"
JSON = "application/vnd.orcid+json"
BROWN_ROR = "https://ror.org/05gq02987"
NS = {"search": "http://www.orcid.org/ns/search", "common": "http://www.orcid.org/ns/common",
      "es": "http://www.orcid.org/ns/expanded-search"}


def read_public(emulator, scope="/read-public") -> str:
    response = requests.post(f"{emulator.url}/oauth/token", timeout=10, data={
        "client_id": emulator.client_id, "client_secret": emulator.client_secret,
        "grant_type": "client_credentials", "scope": scope})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def search(emulator, q, path="expanded-search", media=JSON, token=None, **params):
    headers = {"Accept": media}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(f"{emulator.url}/v3.0/{path}/", params={"q": q, **params},
                        headers=headers, timeout=10)


def found(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["orcid-id"] for r in response.json()["expanded-result"]]


def test_institution_people_are_found_by_ror_grid_name_and_email_domain(emulator):
    token = read_public(emulator)
    by_ror = found(search(emulator, f'ror-org-id:"{BROWN_ROR}"', token=token))
    assert by_ror == sorted([CARBERRY, OKAFOR])
    assert found(search(emulator, "grid-org-id:grid.40263.33", token=token)) == [FERNANDEZ]
    by_name = found(search(emulator, 'affiliation-org-name:("Brown University" OR BU)',
                           token=token))
    assert set(by_name) == {CARBERRY, OKAFOR, FERNANDEZ}
    by_domain = found(search(emulator, "email:*@example.edu", token=token))
    assert OKAFOR in by_domain and RIVERA in by_domain
    # Everything that links Priya Raman to the institution is limited or private.
    for query in (f'ror-org-id:"{BROWN_ROR}"', "email:*@example.edu"):
        assert RAMAN not in found(search(emulator, query, token=token))


def test_boolean_operators_phrases_and_names(emulator):
    either = found(search(emulator, 'ror-org-id:"https://ror.org/05gq02987" OR '
                                    "email:*@example.edu"))
    assert {CARBERRY, OKAFOR, RIVERA} <= set(either)
    both = found(search(emulator, f'ror-org-id:"{BROWN_ROR}" AND email:*@example.edu'))
    assert both == sorted([CARBERRY, OKAFOR])
    assert found(search(emulator, "given-names:ada AND family-name:OKAFOR")) == [OKAFOR]
    assert found(search(emulator, f'ror-org-id:"{BROWN_ROR}" -family-name:Carberry')) == [OKAFOR]
    assert found(search(emulator, "orcid:" + RIVERA)) == [RIVERA]
    # A phrase must appear in that order; diacritics fold only in given-and-family-names.
    assert found(search(emulator, 'affiliation-org-name:"University Brown"')) == []
    assert found(search(emulator, "given-and-family-names:Lucia")) == [FERNANDEZ]
    assert found(search(emulator, "given-names:Lucia")) == []
    assert found(search(emulator, "text:Psychoceramics")) == [CARBERRY]


def test_expanded_results_carry_public_names_emails_and_institutions(emulator):
    response = search(emulator, f'ror-org-id:"{BROWN_ROR}"')
    body = response.json()
    assert body["num-found"] == 2
    okafor = next(r for r in body["expanded-result"] if r["orcid-id"] == OKAFOR)
    assert okafor == {"orcid-id": OKAFOR, "given-names": "Ada", "family-names": "Okafor",
                      "credit-name": "A. N. Okafor", "other-name": [],
                      "email": ["ada.okafor@example.edu"], "institution-name": ["Brown University"]}


def test_pagination_and_num_found(emulator):
    for i in range(12):
        emulator.new_researcher(given_names=f"Page{i:02d}", family_name="Pagination",
                                email=f"page{i:02d}@paging.example.edu")
    pages = []
    for start in range(0, 15, 5):
        body = search(emulator, "family-name:Pagination", start=start, rows=5).json()
        assert body["num-found"] == 12
        pages.append([r["given-names"] for r in body["expanded-result"]])
    assert [len(p) for p in pages] == [5, 5, 2]
    assert sorted(sum(pages, [])) == [f"Page{i:02d}" for i in range(12)]
    assert search(emulator, "family-name:Pagination", rows=0).json()["expanded-result"] == []


@pytest.mark.parametrize("params,code,words", [
    ({"rows": "1001"}, 9012, "rows parameter must be an integer between 0 and 1000"),
    ({"rows": "-1"}, 9012, "rows parameter"),
    ({"rows": "ten"}, 9012, "rows parameter"),
    ({"start": "10001"}, 9043, "start parameter for API users without credentials"),
    ({"start": "-3"}, 9043, "between 0 and 10000"),
])
def test_limits_past_orcids_maximums(emulator, params, code, words):
    response = search(emulator, "family-name:Carberry", path="search", **params)
    assert response.status_code == 400
    assert response.json()["error-code"] == code
    assert words in response.json()["developer-message"]


def test_a_client_may_page_past_10000_but_not_ask_more_than_1000_rows(emulator):
    token = read_public(emulator)
    deep = search(emulator, "family-name:Carberry", path="search", token=token, start=10001)
    assert deep.status_code == 200 and deep.json() == {"num-found": 1, "result": []}
    assert search(emulator, "family-name:Carberry", path="search", token=token,
                  rows=1001).status_code == 400


def test_search_needs_a_read_public_scope_and_a_live_token(emulator):
    webhook = read_public(emulator, scope="/webhook")
    refused = search(emulator, "family-name:Carberry", path="search", token=webhook)
    assert refused.status_code == 403 and refused.json()["error-code"] == 9038
    bad = search(emulator, "family-name:Carberry", path="search", token="not-a-token")
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"


def test_search_xml_and_expanded_xml_are_valid(emulator, orcid_schemas):
    response = search(emulator, f'ror-org-id:"{BROWN_ROR}"', path="search", media=XML)
    root = orcid_schemas.validate(response.content)
    assert root.get("num-found") == "2"
    assert root.xpath("//common:path/text()", namespaces=NS) == sorted([CARBERRY, OKAFOR])
    response = search(emulator, "email:*@example.edu", media=XML)
    root = orcid_schemas.validate(response.content)
    emails = root.xpath(f"//es:expanded-result[es:orcid-id='{OKAFOR}']/es:email/text()",
                        namespaces=NS)
    assert emails == ["ada.okafor@example.edu"]
    empty = orcid_schemas.validate(search(emulator, "family-name:Nobody", media=XML).content)
    assert empty.get("num-found") == "0" and len(empty) == 0


def test_csv_search_returns_the_allowed_fields(emulator):
    response = search(emulator, f'ror-org-id:"{BROWN_ROR}"', path="csv-search", media="text/csv",
                      fl="orcid,given-names,family-name,current-institution-affiliation-name,"
                         "biography")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["orcid", "given-names", "family-name",
                       "current-institution-affiliation-name"]
    assert [OKAFOR, "Ada", "Okafor", "Brown University"] in rows[1:]
    assert all(row[0] in (CARBERRY, OKAFOR) for row in rows[1:])


def test_a_record_made_private_or_deactivated_leaves_the_index(emulator):
    assert RIVERA in found(search(emulator, "email:*@example.edu"))
    emulator.record_status(RIVERA, "deactivated")
    assert RIVERA not in found(search(emulator, "email:*@example.edu"))


def test_a_malformed_query_is_refused(emulator):
    response = search(emulator, "family-name:(Carberry", path="search")
    assert response.status_code == 500
    assert response.json()["error-code"] == 9008


def test_the_client_pages_through_every_hit_within_orcids_limits(emulator):
    for i in range(7):
        emulator.new_researcher(given_names=f"Iter{i}", family_name="Iterated",
                                email=f"iter{i}@iter.example.edu")
    client = ORCIDClient(emulator.client_id, emulator.client_secret, environment="emulator",
                         emulator_url=emulator.url)
    try:
        emulator.reset_requests()
        hits = list(client.iter_expanded_search("family-name:Iterated", read_public(emulator),
                                                rows=3))
        assert sorted(h.given_names for h in hits) == [f"Iter{i}" for i in range(7)]
        searches = [r for r in emulator.requests()["log"] if "expanded-search" in r["path"]]
        assert len(searches) == 3  # 3 + 3 + 1, then num-found says there is no more
        assert len(list(client.iter_expanded_search("family-name:Iterated", None, rows=2,
                                                    limit=5))) == 5
        with pytest.raises(ValueError, match="rows"):
            client.expanded_search("family-name:Iterated", None, rows=1001)
        with pytest.raises(ValueError, match="start"):
            client.expanded_search("family-name:Iterated", None, start=10001)
        query = institution_query(ror=BROWN_ROR, email_domains=["@example.edu", "x\" OR *:*"])
        assert query == f'ror-org-id:"{BROWN_ROR}" OR email:*@example.edu OR email:*@xOR'
        found_ids = {h.orcid for h in client.iter_expanded_search(query, None)}
        assert {CARBERRY, OKAFOR, RIVERA} <= found_ids and RAMAN not in found_ids
        page = client.search(f'ror-org-id:"{BROWN_ROR}"', read_public(emulator))
        assert page.num_found == 2 and [r.orcid for r in page.results] == sorted(
            [CARBERRY, OKAFOR])
    finally:
        client.close()

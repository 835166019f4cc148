"""XSS through ORCID data: hostile names and affiliations on a record are shown as text on
every page of the sample repository that displays them (prefill, connection, landing page)."""

from __future__ import annotations

import requests

EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def test_hostile_orcid_record_is_escaped_everywhere(make_repo, make_person, authorize, emulator):
    created = requests.post(
        f"{emulator.url}/_emulator/researchers",
        json={"given_names": EVIL, "family_name": EVIL, "email": "evil-rec@example.edu",
              "password": "evil-pass-1"},
        timeout=10,
    ).json()
    repo = make_repo(with_emulator=True)
    student = make_person(repo, email="evil-rec@example.edu")
    callback = authorize(student.client, {"email": "evil-rec@example.edu",
                                          "password": "evil-pass-1"}, next="/submit/form")
    assert student.client.get(callback).status_code == 302
    for path in ("/submit/form", "/orcid/", "/my", "/orcid/items"):
        response = student.client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, path
    form = student.client.get("/submit/form").get_data(as_text=True)
    assert created["orcid"] in form
    assert "&lt;script&gt;" in form or "&lt;script&gt;" in student.client.get(
        "/orcid/").get_data(as_text=True)

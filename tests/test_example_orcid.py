"""The sample repository with ORCID, against the emulator over real HTTP: connect from the
submission step, prefill, publish on acceptance (work + education), edits, withdrawal,
embargo release, denial, disconnect, and the iD in the public metadata (issue 6)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import requests

from tests.test_example_workflow import accept, submit_thesis, theses, thesis_fields

JOSIAH = "0000-0002-1825-0097"


@pytest.fixture
def repo(make_repo):
    return make_repo(with_emulator=True)


@pytest.fixture
def josiah(repo, make_person):
    return make_person(repo, email="josiah@example.edu", given_names="Josiah",
                       family_name="Carberry")


@pytest.fixture
def admin(repo, make_person):
    return make_person(repo, email="admin@example.edu", admin=True)


def connect(student, authorize, who="josiah@example.edu", approve=True, next="/submit/form"):
    callback = authorize(student.client, who, approve=approve, next=next)
    return student.client.get(callback)


def deliver(app) -> str:
    result = app.test_cli_runner().invoke(args=["orcid", "deliver"])
    assert result.exit_code == 0, result.output
    return result.output


def ours(items, client_id):
    return [i for i in items if i["source_client_id"] == client_id]


def test_connect_from_the_submission_step_prefills_the_form(repo, josiah, authorize, emulator):
    start = josiah.client.get("/submit").get_data(as_text=True)
    assert "/orcid/connect?next=/submit/form" in start
    response = connect(josiah, authorize)
    assert response.status_code == 302 and response.headers["Location"].endswith("/submit/form")
    html = josiah.client.get("/submit/form").get_data(as_text=True)
    assert "We filled in what we could from your ORCID record" in html
    # the authenticated iD, read-only and in full display form
    assert f"{emulator.url}/{JOSIAH}" in html and 'id="author-orcid"' in html
    assert 'value="josiah@example.edu"' in html
    # department and program start from the education at this school's institution (by ROR),
    # each saying where it came from
    assert 'value="Psychoceramics"' in html
    assert 'value="1985-09"' in html
    assert 'id="department-source"' in html and 'id="program_start-source"' in html
    assert "your education at Brown University, since 1985-09" in html
    # the sample's unused "Institution" field is gone: the institution is the school's own
    assert 'id="institution"' not in html
    # once connected, the explained step is skipped
    assert josiah.client.get("/submit").headers["Location"].endswith("/submit/form")


def test_affiliations_elsewhere_never_prefill_the_school_fields(repo, make_person, authorize,
                                                               emulator):
    """María's record has a finished degree at Salamanca and a job at another university and
    nothing at this school (Brown): no department, no program start, no claim of a prefill
    from an affiliation; her name and email still come from ORCID."""
    maria = make_person(repo, email="maria@example.edu", given_names="María José",
                        family_name="García Núñez")
    connect(maria, authorize, who="maria@example.edu")
    html = maria.client.get("/submit/form").get_data(as_text=True)
    assert "We filled in what we could from your ORCID record" in html
    assert 'id="given_names-source"' in html
    assert 'id="department-source"' not in html and 'id="program_start-source"' not in html
    assert "Facultad de Geograf" not in html and "Salamanca" not in html
    form = re.search(r'<input[^>]*id="department"[^>]*>', html).group(0)
    assert 'value=""' in form or "value=" not in form
    start = re.search(r'<input[^>]*id="program_start"[^>]*>', html).group(0)
    assert 'value=""' in start or "value=" not in start


def test_the_member_logo_has_a_configurable_place(make_repo, make_person):
    """Issue 14, item 15: the site's own copy of ORCID's member logo, where configured."""
    plain = make_person(make_repo(), email="a@example.edu")
    assert "orcid-member-logo" not in plain.client.get("/submit").get_data(as_text=True)
    repo = make_repo(ORCID_MEMBER_LOGO_URL="/static/our-orcid-member-logo.svg",
                     ORCID_MEMBER_LOGO_ALT="ORCID member")
    student = make_person(repo, email="b@example.edu")
    for page in ("/submit", "/orcid/"):
        html = student.client.get(page).get_data(as_text=True)
        assert '<img src="/static/our-orcid-member-logo.svg" alt="ORCID member"' in html, page


def test_denial_offers_to_try_again_and_to_continue(repo, josiah, authorize):
    response = connect(josiah, authorize, approve=False)
    html = response.get_data(as_text=True)
    assert "Try again" in html and "Continue without ORCID" in html
    assert 'href="/submit/form"' in html
    # the extension's page is inside the repository's layout (templates/orcid/base.html)
    assert "Graduate School" in html and "Browse theses" in html
    assert "We filled in" not in josiah.client.get("/submit/form").get_data(as_text=True)


def test_accept_publishes_the_thesis_and_the_degree_to_orcid(repo, josiah, admin, authorize,
                                                               emulator):
    connect(josiah, authorize)
    response = submit_thesis(josiah, given_names="Josiah", family_name="Carberry",
                             email="josiah@example.edu", department="Psychoceramics",
                             **{"advisors-0-orcid": "0000-0003-4567-890X"})
    assert response.status_code == 302
    [thesis] = theses(repo)
    accept(admin, thesis.id)
    # accepted: queued, not yet sent (no ORCID call inside the request)
    assert ours(emulator.record(JOSIAH)["works"], emulator.client_id) == []
    deliver(repo)

    record = emulator.record(JOSIAH)
    [work] = ours(record["works"], emulator.client_id)
    [thesis] = theses(repo)
    assert work["type"] == "dissertation-thesis"
    assert work["title"] == "Notes on the Analytical Engine"
    ids = {(e["type"], e["value"], e["relationship"]) for e in work["external_ids"]}
    assert ("doi", thesis.doi, "self") in ids and ("handle", thesis.handle, "self") in ids
    assert work["url"].endswith(f"/theses/{thesis.id}")
    assert work["language_code"] == "en" and work["publication_date"] == "2024-05-20"
    first, advisor = work["contributors"]
    assert first["orcid"] == JOSIAH and first["sequence"] == "first"
    assert advisor["credit_name"] == "Charles Babbage" and advisor["orcid"] is None
    assert advisor["role"].endswith("/supervision/")
    [degree] = ours(record["educations"], emulator.client_id)
    assert degree["role_title"] == "Doctor of Philosophy (PhD)"
    assert degree["department"] == "Psychoceramics"
    assert degree["end_date"] == "2024-05-20" and degree["start_date"] == "2019-09"
    assert degree["organization"]["disambiguated_id"] == "https://ror.org/05gq02987"

    # the admin sees the sync state
    html = admin.client.get(f"/admin/theses/{thesis.id}").get_data(as_text=True)
    assert "On the ORCID record" in html and f"put-code {work['put_code']}" in html
    # and flask-orcid's delivery page, inside the site's layout
    html = admin.client.get("/orcid/admin").get_data(as_text=True)
    assert "Review queue" in html and f'href="/admin/theses/{thesis.id}"' in html
    assert josiah.client.get("/orcid/admin").status_code == 403

    # the landing page shows the iD and embeds it in the metadata
    public = repo.test_client()
    response = public.get(f"/theses/{thesis.id}")
    html = response.get_data(as_text=True)
    uri = f"{emulator.url}/{JOSIAH}"
    assert f'<meta name="citation_author_orcid" content="{uri}">' in html
    assert f'<meta name="citation_doi" content="{thesis.doi}">' in html
    assert 'id="author-orcid"' in html and uri in html
    # the iD link opens the researcher's public record page (issue 12), not an XML 404
    record_page = requests.get(uri, timeout=10)
    assert record_page.status_code == 200 and record_page.headers["Content-Type"].startswith("text/html")
    assert "Josiah S. Carberry" in record_page.text
    doc = json.loads(public.get(f"/theses/{thesis.id}/metadata.jsonld").data)
    assert doc["@type"] == "Thesis" and doc["author"]["@id"] == uri
    link = response.headers["Link"]
    assert f'<{uri}>; rel="author"' in link
    assert f'<https://doi.org/{thesis.doi}>; rel="cite-as"' in link
    assert 'rel="describedby"; type="application/ld+json"' in link
    # the advisor's typed-in iD is shown, marked as not authenticated; the JSON-LD keeps it,
    # marked the same way, and never as the person's @id (issue 15)
    assert "(ORCID iD not authenticated)" in html
    [advisor] = doc["contributor"]
    assert "@id" not in advisor
    assert advisor["identifier"]["value"] == "0000-0003-4567-890X"
    assert advisor["identifier"]["description"] == "not authenticated"


def test_edit_updates_and_withdrawal_retracts(repo, josiah, admin, authorize, emulator):
    connect(josiah, authorize)
    submit_thesis(josiah)
    [thesis] = theses(repo)
    accept(admin, thesis.id)
    deliver(repo)
    [before] = ours(emulator.record(JOSIAH)["works"], emulator.client_id)

    page = f"/admin/theses/{thesis.id}"
    response = admin.post_form(f"/admin/theses/{thesis.id}/edit", {
        "edit-title": "Notes on the Analytical Engine, revised",
        "edit-subtitle": "", "edit-abstract": "A corrected abstract.",
        "edit-keywords": "computing", "edit-language": "en", "edit-embargo_until": "",
        "edit-department": "Department of Computing", "edit-degree_date": "2024-06-15",
        "edit-save": "1"}, page=page)
    assert response.status_code == 302
    # the change waits for the worker: on the record, update pending (not "Not sent")
    html = admin.client.get(page).get_data(as_text=True)
    assert "On the record, update pending" in html and "Not sent" not in html
    deliver(repo)
    record = emulator.record(JOSIAH)
    [after] = ours(record["works"], emulator.client_id)
    assert after["put_code"] == before["put_code"]  # updated in place, not re-posted
    assert after["title"] == "Notes on the Analytical Engine, revised"
    assert after["publication_date"] == "2024-06-15"
    [degree] = ours(record["educations"], emulator.client_id)
    assert degree["department"] == "Department of Computing"
    assert degree["end_date"] == "2024-06-15"

    admin.post_form(f"/admin/theses/{thesis.id}/withdraw",
                    {"withdraw-reason": "Author's request", "withdraw-withdraw": "1"}, page=page)
    deliver(repo)
    record = emulator.record(JOSIAH)
    assert ours(record["works"], emulator.client_id) == []
    assert ours(record["educations"], emulator.client_id) == []


def test_a_rescinded_degree_takes_both_items_off_the_record(repo, josiah, admin, authorize,
                                                            emulator):
    """Issue 14, item 3: the thesis and its degree are coupled."""
    connect(josiah, authorize)
    submit_thesis(josiah)
    [thesis] = theses(repo)
    accept(admin, thesis.id)
    deliver(repo)
    record = emulator.record(JOSIAH)
    assert ours(record["works"], emulator.client_id)
    assert ours(record["educations"], emulator.client_id)
    page = f"/admin/theses/{thesis.id}"
    response = admin.post_form(f"/admin/theses/{thesis.id}/withdraw", {
        "withdraw-reason": "Board decision of 2025-01-10", "withdraw-rescinded": "y",
        "withdraw-withdraw": "1"}, page=page)
    assert response.status_code == 302
    [thesis] = theses(repo)
    assert thesis.status == "withdrawn"
    assert thesis.review_note == "Degree rescinded: Board decision of 2025-01-10"
    deliver(repo)
    record = emulator.record(JOSIAH)
    assert ours(record["works"], emulator.client_id) == []
    assert ours(record["educations"], emulator.client_id) == []


def test_embargoed_thesis_reaches_orcid_when_the_embargo_lifts(repo, josiah, admin, authorize,
                                                                emulator):
    connect(josiah, authorize)
    until = dt.date.today() + dt.timedelta(days=30)
    submit_thesis(josiah, embargo_until=until.isoformat())
    [thesis] = theses(repo)
    accept(admin, thesis.id)
    deliver(repo)
    assert ours(emulator.record(JOSIAH)["works"], emulator.client_id) == []

    runner = repo.test_cli_runner()
    result = runner.invoke(args=["lift-embargoes"])
    assert "0 embargo(es) lifted." in result.output
    later = until + dt.timedelta(days=1)
    result = runner.invoke(args=["lift-embargoes", "--today", later.isoformat()])
    assert result.exit_code == 0 and "1 embargo(es) lifted." in result.output
    deliver(repo)
    [work] = ours(emulator.record(JOSIAH)["works"], emulator.client_id)
    assert work["title"] == "Notes on the Analytical Engine"


def test_disconnect_removes_the_id_from_the_public_pages(repo, josiah, admin, authorize,
                                                          emulator):
    connect(josiah, authorize)
    submit_thesis(josiah)
    [thesis] = theses(repo)
    accept(admin, thesis.id)
    public = repo.test_client()
    assert JOSIAH in public.get(f"/theses/{thesis.id}").get_data(as_text=True)

    html = josiah.client.get("/orcid/").get_data(as_text=True)
    assert "Graduate School" in html  # the extension's page in the site's layout
    response = josiah.post_form("/orcid/disconnect", {}, page="/orcid/disconnect/confirm")
    assert response.status_code == 200
    # the confirmation names the iD that was removed (inside the site's layout)
    assert f"Your ORCID iD ({JOSIAH})" in response.get_data(as_text=True)
    assert all(t["status"] != "active" for t in emulator.tokens(orcid=JOSIAH,
                                                                client_id=emulator.client_id))
    response = public.get(f"/theses/{thesis.id}")
    html = response.get_data(as_text=True)
    assert JOSIAH not in html and "citation_author_orcid" not in html
    assert 'rel="author"' not in response.headers["Link"]
    doc = json.loads(public.get(f"/theses/{thesis.id}/metadata.jsonld").data)
    assert "@id" not in doc["author"]
    assert JOSIAH not in josiah.client.get("/my").get_data(as_text=True)


def test_after_a_disconnect_the_admin_pages_say_the_items_stay_on_the_record(
        repo, josiah, admin, authorize, emulator):
    """Issue 14, item 4: not "Not sent" / "sent when they connect" while both items sit on
    the record, and the withdrawal text does not promise to remove them."""
    connect(josiah, authorize)
    submit_thesis(josiah)
    [thesis] = theses(repo)
    accept(admin, thesis.id)
    deliver(repo)
    record = emulator.record(JOSIAH)
    assert ours(record["works"], emulator.client_id) and ours(record["educations"],
                                                              emulator.client_id)
    josiah.post_form("/orcid/disconnect", {}, page="/orcid/disconnect/confirm")

    html = admin.client.get(f"/admin/theses/{thesis.id}").get_data(as_text=True)
    panel = html[html.index('id="sync-state"'):]
    panel = panel[:panel.index("</section>")]
    assert "the author has disconnected, so changes can no longer be sent" in panel
    assert "Not sent" not in panel and "sent when they do" not in panel
    effect = html[html.index('id="withdraw-effect"'):]
    effect = effect[:effect.index("</p>")]
    assert "stay on the author's ORCID record" in effect and "are removed from" not in effect
    queue = admin.client.get("/admin/?status=published").get_data(as_text=True)
    assert "On the record, author disconnected" in queue and "Not sent" not in queue
    # the record still holds both items (nothing was removed behind the page's back)
    record = emulator.record(JOSIAH)
    assert ours(record["works"], emulator.client_id) and ours(record["educations"],
                                                              emulator.client_id)


def test_the_dashboard_checks_the_stored_token_before_saying_connected(
        repo, josiah, authorize, emulator):
    """Issue 14, item 5: a permission revoked at ORCID shows the reconnect box, never
    "connected" and "no longer accepted" at once; the check is cached."""
    connect(josiah, authorize)
    html = josiah.client.get("/my").get_data(as_text=True)
    assert "Your ORCID iD is connected" in html
    emulator.reset_requests()
    josiah.client.get("/my")
    josiah.client.get("/orcid/")
    person_reads = [r for r in emulator.requests()["log"] if r["path"].endswith("/person")]
    assert person_reads == []  # cached: the check is not repeated on every page
    emulator.user_revoke(JOSIAH)
    repo.extensions["orcid_checks"].clear()
    html = josiah.client.get("/my").get_data(as_text=True)
    assert "Your ORCID iD is connected" not in html
    assert "no longer accepts" in html and "orcid-connect-button" in html
    page = josiah.client.get("/orcid/").get_data(as_text=True)
    assert "This ORCID iD is connected to your account" not in page
    assert "the connection no longer works" in page and "orcid-reconnect" in page


def test_the_delivery_page_speaks_to_people(repo, josiah, admin, authorize, emulator):
    """Issue 14, item 8: names and thesis titles with links, readable dates, translated
    states; one h1; "Send it again" says so once and stays on the page it was pressed on."""
    connect(josiah, authorize)
    submit_thesis(josiah)
    [thesis] = theses(repo)
    accept(admin, thesis.id)
    deliver(repo)
    html = admin.client.get("/orcid/admin").get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "Josiah Carberry" in html or "Ada Lovelace" in html
    assert f'href="/admin/theses/{thesis.id}">Notes on the Analytical Engine</a>' in html
    assert "When (UTC)" not in html and "<time datetime=" in html
    admin.client.get("/lang/es")
    es = admin.client.get("/orcid/admin").get_data(as_text=True)
    assert "Sincronizado" in es and ">Synced<" not in es and "Cuándo" in es
    admin.client.get("/lang/en")

    # the researcher deletes the work on ORCID; "Send it again" from the connection page
    [work] = ours(emulator.record(JOSIAH)["works"], emulator.client_id)
    emulator.delete_item(JOSIAH, "work", work["put_code"])
    admin.post_form(f"/admin/theses/{thesis.id}/edit", {
        "edit-title": "Notes on the Analytical Engine", "edit-subtitle": "",
        "edit-abstract": "A corrected abstract.", "edit-keywords": "computing",
        "edit-language": "en", "edit-embargo_until": "",
        "edit-department": "Department of Mathematics", "edit-degree_date": "2024-05-20",
        "edit-save": "1"}, page=f"/admin/theses/{thesis.id}")
    deliver(repo)  # the PUT finds the work gone: removed by the researcher
    page = josiah.client.get("/orcid/").get_data(as_text=True)
    assert "orcid-resend-form" in page
    response = josiah.post_form("/orcid/items/resend", {"key": f"thesis:{thesis.id}",
                                                        "next": "/orcid/items"},
                                page="/orcid/items")
    assert response.status_code == 302 and response.headers["Location"] == "/orcid/items"
    after = josiah.client.get("/orcid/items").get_data(as_text=True)
    assert after.count("It will be sent to your ORCID record again shortly.") == 1


def test_a_student_connecting_after_publication_gets_the_thesis_on_their_record(
        repo, josiah, admin, authorize, emulator):
    submit_thesis(josiah)
    [thesis] = theses(repo)
    accept(admin, thesis.id)
    deliver(repo)
    assert ours(emulator.record(JOSIAH)["works"], emulator.client_id) == []
    connect(josiah, authorize, next="/my")
    deliver(repo)
    [work] = ours(emulator.record(JOSIAH)["works"], emulator.client_id)
    assert work["contributors"][0]["orcid"] == JOSIAH


def test_orcid_screens_follow_the_language(repo, josiah):
    josiah.client.get("/lang/es")
    response = josiah.client.get("/orcid/connect?next=/submit/form")
    assert response.status_code == 302 and "lang=es" in response.headers["Location"]


def test_unused_fields_helper_is_complete():
    # guards the shared helper the browser tests reuse
    assert thesis_fields()["degree"] == "phd"


def test_prefill_failure_leaves_a_working_form(repo, josiah, authorize, emulator):
    connect(josiah, authorize)
    emulator.fault(method="GET", path=r"/person$", count=5, action="status", status=404)
    html = josiah.client.get("/submit/form").get_data(as_text=True)
    assert "We could not read your ORCID record just now" in html
    assert 'value="Carberry"' in html  # from the local account instead


def test_names_from_orcid_are_escaped(repo, make_person, authorize, emulator):
    evil = emulator.new_researcher(given_names='<img src=x onerror="alert(1)">',
                                   family_name="</textarea><script>x()</script>",
                                   email="evil@example.edu", password="evil-pass-1")
    student = make_person(repo, email="evil@example.edu")
    connect(student, authorize, who=evil)
    html = student.client.get("/submit/form").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>x()" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_admin_sees_when_the_researcher_removed_the_thesis(repo, josiah, admin, authorize,
                                                           emulator):
    connect(josiah, authorize)
    submit_thesis(josiah)
    [thesis] = theses(repo)
    accept(admin, thesis.id)
    deliver(repo)
    [work] = ours(emulator.record(JOSIAH)["works"], emulator.client_id)
    emulator.delete_item(JOSIAH, "work", work["put_code"])
    result = repo.test_cli_runner().invoke(args=["orcid", "sync"])
    assert result.exit_code == 0, result.output
    html = admin.client.get(f"/admin/theses/{thesis.id}").get_data(as_text=True)
    assert "Removed by the researcher" in html
    # an edit does not put it back: the researcher's choice stands
    edited = admin.post_form(f"/admin/theses/{thesis.id}/edit", {
        "edit-title": "A new title", "edit-subtitle": "", "edit-abstract": "Still here.",
        "edit-keywords": "", "edit-language": "en", "edit-embargo_until": "",
        "edit-department": "Mathematics", "edit-degree_date": "2024-05-20",
        "edit-save": "1"}, page=f"/admin/theses/{thesis.id}")
    assert edited.status_code == 302
    deliver(repo)
    assert ours(emulator.record(JOSIAH)["works"], emulator.client_id) == []

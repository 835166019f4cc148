"""Classes that held, kept closed in the sample repository: CSRF on every POST (and login
CSRF), IDOR between students, upload tricks, XSS through thesis fields and the JSON-LD block."""

from __future__ import annotations

import json
import re

import pytest

from tests.plugins.example import make_pdf
from tests.test_example_workflow import accept, submit_thesis, theses, upload

EVIL = "</script><script>alert('x')</script><img src=x onerror=alert(1)>\"'&"


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.fixture
def repo(make_repo):
    return make_repo()


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.endpoint != "orcid_outbox.webhook":
            yield rule


def test_every_post_needs_the_csrf_token(repo, make_person):
    student = make_person(repo)
    submit_thesis(student)
    submit_thesis(student, title="A second thesis")  # one stays submitted
    first, _second = theses(repo)
    admin = make_person(repo, email="admin@example.edu", admin=True)
    assert accept(admin, first.id).status_code == 302
    [thesis, pending] = theses(repo)
    rules = list(_post_rules(repo))
    assert len(rules) >= 10
    checked = []
    for rule in rules:
        url = rule.rule.replace("<int:thesis_id>", str(thesis.id)).replace("<code>", "es")
        url = url.replace("<token>", "no.link").replace("<int:invitation_id>", "1").replace(
            "<int:person_id>", "1").replace("<int:campaign_id>", "1")
        assert "<" not in url, rule.rule
        for who in (student, admin):
            response = who.client.post(url, data={"review-accept": "Accept", "title": "X",
                                                  "submit": "Submit for review",
                                                  "item_key": "k", "csrf_token": "forged"})
            assert response.status_code in (400, 403, 404, 409, 302, 200), (url,
                                                                            response.status_code)
            if response.status_code == 302:  # logout/login-style views: nothing happened
                assert who.client.get("/my").status_code in (200, 403, 302)
            checked.append(url)
    # nothing changed: the thesis is still submitted, both still logged in
    after, after_pending = theses(repo)
    assert (after.status, after.title) == (thesis.status, thesis.title)
    assert (after_pending.status, after_pending.title) == (pending.status, pending.title)
    assert student.client.get("/my").status_code == 200
    assert admin.client.get("/admin/").status_code == 200
    assert "/account/logout" in checked and "/orcid/disconnect" in checked


def test_login_without_csrf_token_logs_nobody_in(repo, make_person):
    """Login CSRF: a foreign page posting the attacker's credentials does not sign in."""
    make_person(repo, email="attacker@example.edu", password="attacker-pass")
    victim = repo.test_client()
    response = victim.post("/account/login", data={"email": "attacker@example.edu",
                                                    "password": "attacker-pass"})
    assert response.status_code == 200
    assert victim.get("/my").status_code == 302


def test_students_cannot_reach_each_others_drafts(repo, make_person):
    ada = make_person(repo)
    submit_thesis(ada)
    [thesis] = theses(repo)
    eve = make_person(repo, email="eve@example.edu", given_names="Eve")
    for path in (f"/my/theses/{thesis.id}", f"/my/theses/{thesis.id}/edit",
                 f"/my/theses/{thesis.id}/file.pdf", f"/theses/{thesis.id}",
                 f"/theses/{thesis.id}/thesis.pdf", f"/admin/theses/{thesis.id}",
                 f"/admin/theses/{thesis.id}/file.pdf"):
        response = eve.client.get(path)
        assert response.status_code in (403, 404), path
        assert "Analytical Engine" not in response.get_data(as_text=True)
    response = eve.post_form(f"/my/theses/{thesis.id}/edit", {"title": "Pwned"},
                             page="/my")
    assert response.status_code in (403, 404)
    assert theses(repo)[0].title == thesis.title
    # and the owner can
    assert ada.client.get(f"/my/theses/{thesis.id}").status_code == 200


@pytest.mark.parametrize("data, name", [
    (b"<html><script>alert(1)</script></html>", "thesis.pdf"),
    (b"MZ\x90\x00 not a pdf", "thesis.pdf"),
    (b"%PDF-1.4\n<script>alert(1)</script>", "thesis.html"),
    (None, "../../../etc/passwd.pdf"),
    (None, "thesis.pdf.html"),
    (b"", "thesis.pdf"),
])
def test_upload_tricks_are_refused_or_defused(repo, make_person, data, name):
    student = make_person(repo)
    pdf = data if data is not None else make_pdf("A thesis")
    response = submit_thesis(student, pdf=upload(pdf, name) if pdf else (upload()[0], name))
    rows = theses(repo)
    if not rows or rows[0].status == "draft":
        return  # refused
    [thesis] = rows
    served = student.client.get(f"/my/theses/{thesis.id}/file.pdf")
    assert served.status_code == 200
    assert served.mimetype == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.data.startswith(b"%PDF-")
    assert ".." not in served.headers.get("Content-Disposition", "")
    served.close()
    assert response.status_code in (200, 302)


def test_script_in_thesis_fields_is_escaped_everywhere(repo, make_person):
    student = make_person(repo, given_names=EVIL, family_name=EVIL)
    submit_thesis(student, title=EVIL, subtitle=EVIL, abstract=EVIL, keywords=EVIL,
                  given_names=EVIL, family_name=EVIL, department=EVIL,
                  **{"advisors-0-name": EVIL})
    [thesis] = theses(repo)
    admin = make_person(repo, email="admin@example.edu", admin=True)
    assert accept(admin, thesis.id).status_code in (200, 302)
    visitor = repo.test_client()
    pages = {
        "landing": visitor.get(f"/theses/{thesis.id}").get_data(as_text=True),
        "browse": visitor.get("/theses?q=alert").get_data(as_text=True),
        "home": visitor.get("/").get_data(as_text=True),
        "mine": student.client.get(f"/my/theses/{thesis.id}").get_data(as_text=True),
        "review": admin.client.get(f"/admin/theses/{thesis.id}").get_data(as_text=True),
        "queue": admin.client.get("/admin/").get_data(as_text=True),
    }
    for name, html in pages.items():
        assert "<script>alert" not in html, name
        assert "<img src=x" not in html, name
        assert "onerror=alert(1)>" not in html.replace("onerror=alert(1)&gt;", ""), name
    landing = pages["landing"]
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', landing, re.S)
    assert len(blocks) == 1
    assert "</script" not in blocks[0].lower() and "<" not in blocks[0]
    data = json.loads(blocks[0])
    assert EVIL in _strings(data)  # the value is intact, only escaped
    for meta in re.findall(r"<meta [^>]*>", landing):
        assert "<script" not in meta

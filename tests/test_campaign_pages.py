"""The campaign's admin pages (en and es) and its CLI: upload with refused lines, progress while
a "Send now" thread runs, filters, the CSV export, bounces reported later, pause and resume,
the host's graduates as the other source, admins only."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from flask_orcid import Graduate
from flask_orcid.sync import campaigns as cp
from tests.campaign_support import INSTITUTION, csrf, graduate, graduates_csv
from tests.plugins.app import orcid


@pytest.fixture
def admin_app(make_app, campaign_smtp, tmp_path):
    # a database file: the "send now" thread and the page's requests use connections of their own
    app = make_app(**INSTITUTION, **campaign_smtp.config(),
                   SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'site.sqlite'}")
    orcid.admin_checker(lambda: True)
    yield app
    orcid._admin_checker = None
    orcid._graduates_source = None


def _upload(client, rows, lang="en", **headers):
    page = client.get("/orcid/admin/campaigns", headers=headers).get_data(as_text=True)
    data = {"csrf_token": csrf(page), "name": "Alumni", "source": "csv", "lang": lang,
            "file": (io.BytesIO(graduates_csv(rows).encode()), "alumni.csv")}
    return client.post("/orcid/admin/campaigns", data=data, headers=headers,
                       content_type="multipart/form-data", follow_redirects=True)


def _wait_until_sent(client, url, total):
    deadline = time.monotonic() + 30
    while True:
        data = json.loads(client.get(url).get_data(as_text=True))
        if data["processed"] == total and not data["running"]:
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.05)


def test_upload_send_now_filter_export_and_bounces(admin_app, campaign_smtp):
    campaign_smtp.refuse = {"grad002@alumni.example.org"}
    client = admin_app.test_client()
    rows = [graduate(n) for n in range(1, 7)] + [graduate(7, date="someday")]
    page = _upload(client, rows).get_data(as_text=True)
    assert "6 people queued. 1 row refused (see below)." in page
    assert 'Line 8: <span lang="en">date:' in page  # the header is line 1; English reasons
    assert '<progress id="orcid-progress-bar" max="6" value="0">' in page
    url = page.split('data-progress-url="')[1].split('"')[0]
    action = page.split('action="')[1].split('"')[0]  # the "send now" form
    assert action.endswith("/run")
    response = client.post(action, data={"csrf_token": csrf(page)})
    assert response.status_code == 302
    progress = _wait_until_sent(client, url, 6)
    assert progress["counts"]["invited"] == 5 and progress["counts"]["bounced"] == 1
    assert len(campaign_smtp.messages) == 5

    campaign_url = url.removesuffix("/progress.json")
    page = client.get(f"{campaign_url}?status=bounced").get_data(as_text=True)
    assert 'data-email="grad002@alumni.example.org"' in page
    assert 'data-email="grad001@alumni.example.org"' not in page
    data = {"csrf_token": csrf(page), "emails": "grad003@alumni.example.org\nnobody@x.org"}
    client.post(f"{campaign_url}/bounces", data=data)
    export = client.get(f"{campaign_url}/export.csv?status=bounced")
    assert export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert {(r["email"], r["line"]) for r in rows} == {("grad002@alumni.example.org", "3"),
                                                       ("grad003@alumni.example.org", "4")}
    assert "550" in rows[0]["reason"]


def test_the_pages_in_spanish(admin_app):
    client = admin_app.test_client()
    page = _upload(client, [graduate(1), graduate(2, doi="")], lang="es",
                   **{"Accept-Language": "es"}).get_data(as_text=True)
    assert "1 persona en cola. 1 fila rechazada (véase abajo)." in page
    assert "Línea 3:" in page and "Exportar como CSV" in page and "Progreso" in page
    listing = client.get("/orcid/admin/campaigns", headers={"Accept-Language": "es"})
    assert "Campañas retrospectivas" in listing.get_data(as_text=True)


def test_only_admins(admin_app):
    orcid._admin_checker = None
    client = admin_app.test_client()
    assert client.get("/orcid/admin/campaigns").status_code == 403
    with admin_app.app_context():
        campaign_id = orcid.create_campaign(name="x", csv_text=graduates_csv([graduate(1)])).id
    assert client.get(f"/orcid/admin/campaigns/{campaign_id}").status_code == 403
    assert client.get(f"/orcid/admin/campaigns/{campaign_id}/export.csv").status_code == 403


def test_the_cli_creates_runs_with_progress_pauses_and_resumes(admin_app, campaign_smtp,
                                                               tmp_path):
    path = tmp_path / "alumni.csv"
    path.write_text(graduates_csv([graduate(n) for n in range(1, 4)] + [graduate(4, email="")]))
    runner = admin_app.test_cli_runner()
    result = runner.invoke(args=["orcid", "campaign", "create", "--name", "Alumni",
                                 "--csv", str(path), "--lang", "es"])
    assert result.exit_code == 0, result.output
    assert "Campaign 1 (Alumni): 3 people queued." in result.output
    assert "line 5: missing email" in result.output
    assert "paused" in runner.invoke(args=["orcid", "campaign", "pause", "1"]).output
    result = runner.invoke(args=["orcid", "campaign", "run"])
    assert "0/0 due emails handled" in result.output and not campaign_smtp.messages
    runner.invoke(args=["orcid", "campaign", "resume", "1"])
    result = runner.invoke(args=["orcid", "campaign", "run"])
    assert result.exit_code == 0, result.output
    assert "campaign: 3/3 due emails handled: 3 invited" in result.output  # progress line
    assert [m["Content-Language"] for m in campaign_smtp.messages] == ["es"] * 3
    result = runner.invoke(args=["orcid", "campaign", "status"])
    assert "1 Alumni (active, 3 people, 1 rows refused)" in result.output
    assert "invited 3" in result.output


def test_a_campaign_of_the_hosts_graduates(admin_app):
    """The other source: the host's hook, with its own outbox keys for the items."""
    orcid.graduates_source(lambda: [
        Graduate(name="Inés Robledo", email="ines@example.org", title="Cartografía",
                 date="2024-05-26", degree="PhD", handle="20.500.12345/etd.1",
                 key="user:7", work_key="thesis:1", degree_key="degree:1"),
        Graduate(name="Bad Date", email="bad@example.org", title="T", date="2024-99",
                 degree="PhD", doi="10.1/x", key="user:8"),
    ])
    with admin_app.app_context():
        campaign = orcid.create_campaign(name="Graduates", from_host=True)
        [person] = orcid.campaign_people(campaign.id)
        assert (person.person_key, person.work_key, person.degree_key) == (
            "user:7", "thesis:1", "degree:1")
        assert person.status == cp.QUEUED
        [problem] = cp.problems_of(campaign)
        assert "month" in problem.message


def test_reasons_in_the_readers_language(admin_app, campaign_smtp):
    # What the page shows in the "Reason" column: our own reasons in Spanish for a Spanish
    # reader, and what a mail server or ORCID said kept as it came, marked English.
    from flask_orcid.sync import campaign_reasons as reasons

    campaign_smtp.refuse = {"grad002@alumni.example.org"}
    client = admin_app.test_client()
    es = {"Accept-Language": "es"}
    page = _upload(client, [graduate(n) for n in range(1, 6)], **es).get_data(as_text=True)
    url = page.split('data-progress-url="')[1].split('"')[0]
    client.post(page.split('action="')[1].split('"')[0], data={"csrf_token": csrf(page)})
    _wait_until_sent(client, url, 5)
    campaign_url = url.removesuffix("/progress.json")
    page = client.get(campaign_url, headers=es).get_data(as_text=True)
    client.post(f"{campaign_url}/bounces", headers=es,
                data={"csrf_token": csrf(page), "emails": "grad003@alumni.example.org"})
    with admin_app.app_context():
        people = {p.email: p for p in orcid.campaign_people(int(campaign_url.split("/")[-1]))}
        people["grad004@alumni.example.org"].reason = reasons.GAVE_UP.text(
            tries=5, detail="421 <b>try later</b>")
        people["grad005@alumni.example.org"].reason = reasons.NOT_TAKEN.text(
            item="education", detail="The organization is not valid")
        people["grad001@alumni.example.org"].reason = reasons.EXPIRED.text(date="2026-12-14")
        orcid.db.session.commit()

    page = client.get(campaign_url, headers=es).get_data(as_text=True)
    cells = {row.split('data-email="')[1].split('"')[0]: row.split("<td>")[-2]
             for row in page.split("<tr ")[1:] if 'data-email="' in row}
    assert cells["grad003@alumni.example.org"].startswith(
        "Se notificó un rebote para esta dirección.")
    assert cells["grad004@alumni.example.org"].startswith(
        'No se pudo enviar el correo tras 5 intentos: <span lang="en">421 '
        '&lt;b&gt;try later&lt;/b&gt;</span>')
    assert cells["grad005@alumni.example.org"].startswith(
        'ORCID no aceptó este elemento (Educación): <span lang="en">The organization is not '
        'valid</span>')
    assert cells["grad001@alumni.example.org"].startswith(
        "Sin respuesta: el último enlace caducó el 2026-12-14.")
    # the mail server's refusal is not ours to translate
    assert cells["grad002@alumni.example.org"].startswith('<span lang="en">')
    assert "550" in cells["grad002@alumni.example.org"]

    # the export keeps the stored English text
    export = client.get(f"{campaign_url}/export.csv").get_data(as_text=True)
    assert "A bounce was reported for this address." in export
    assert "The email could not be sent after 5 tries: 421 <b>try later</b>" in export
    page = client.get(campaign_url).get_data(as_text=True)
    assert "A bounce was reported for this address." in page


def test_every_reason_is_recognized_from_its_stored_text():
    from flask_orcid.campaign_pages import REASON_LABELS
    from flask_orcid.sync import campaign_reasons as reasons

    for reason in reasons.REASONS:
        names = [part for i, part in enumerate(reason.english.replace("}", "{").split("{"))
                 if i % 2]
        values = {name: {"tries": "12", "date": "2026-12-14", "item": "invited-position"}
                  .get(name, "421: try later: the next tries: 3 ({x}) %s") for name in names}
        assert reasons.recognize(reason.text(**values)) == (reason, values)
        assert reason.code in REASON_LABELS
    assert reasons.recognize("550 5.1.1 no such user") is None
    assert reasons.recognize("") is None and reasons.recognize(None) is None

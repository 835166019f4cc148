"""The backfill campaign over a 200-line CSV (issue 16, "done when"): bad rows, SMTP refusals
(bounces) and a busy mailbox, a run killed in the middle of an SMTP transaction and continued
by a new app, people who consent (with and without the thesis), decline at ORCID, only open
the link, answer after a reminder, or let the link expire; reminders on the fake clock up to
their limit; bounces reported later. It ends in a status CSV compared with what each person
did, and the emulator's records hold the thesis and the degree of those who consented only."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from flask_orcid.sync import campaigns as cp
from flask_orcid.sync.campaign_reasons import NOT_ADDED
from tests.campaign_support import (
    INSTITUTION,
    answer,
    fake_clock,
    graduate,
    graduates_csv,
    last_link,
    path_of,
)
from tests.plugins.app import orcid
from tests.plugins.mail import link_in

ROOT = Path(__file__).resolve().parent.parent
SPOILED = {13: {"email": "not-an-address"}, 27: {"date": "spring 2007"}, 41: {"doi": ""},
           55: {"email": "grad001@alumni.example.org"}, 69: {"orcid": "1234"},
           83: {"title": ""}, 97: {"date": "1997-13"}, 111: {"degree": ""}}
HELD = 101  # the person whose email is in the SMTP transaction when the run is killed


def role(n: int) -> str:
    """What person ``n`` does (the expected outcome follows from it)."""
    if n in SPOILED:
        return "spoiled"
    if n % 20 == 5:
        return "bounce"
    if n in (3, 4):
        return "bounce_later"
    if n in (7, 8):
        return "busy"  # 450 once, then a normal no-answer person
    if n % 10 == 0:
        return "consent"
    if n % 20 == 2:
        return "consent_no_thesis"
    if n % 20 == 6:
        return "decline"
    if n % 20 == 9:
        return "open_only"
    if n % 20 == 11:
        return "consent_after_reminder"
    if n % 20 == 17:
        return "click_expired"
    return "silent"


EXPECTED = {"bounce": cp.BOUNCED, "bounce_later": cp.BOUNCED, "busy": cp.FAILED,
            "consent": cp.DELIVERED, "consent_no_thesis": cp.CONNECTED,
            "decline": cp.DECLINED, "open_only": cp.FAILED,
            "consent_after_reminder": cp.DELIVERED, "click_expired": cp.FAILED,
            "silent": cp.FAILED}


def email(n: int) -> str:
    return f"grad{n:03d}@alumni.example.org"


def _config(db_file: Path, smtp, emulator) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", **INSTITUTION, **smtp.config(),
            "ORCID_EMULATOR_URL": emulator.url, "ORCID_CLIENT_ID": emulator.client_id,
            "ORCID_CLIENT_SECRET": emulator.client_secret,
            "ORCID_SUPPORT_EMAIL": "orcid-help@example.edu"}


def _killed_run(config: dict, smtp) -> None:
    """``flask orcid campaign run`` in a process of its own, killed while the mail server
    holds the email of person ``HELD`` (after DATA, before the answer)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tests.campaign_process",
                                json.dumps(config)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert smtp.holding.wait(120), process.communicate(timeout=5)[0][-2000:]
    finally:
        process.kill()
        process.communicate(timeout=30)
        smtp.release.set()


def _deliver(app, orcid) -> None:
    with app.app_context():
        for _ in range(5):
            if orcid.deliverer(app).run_once().claimed == 0:
                break
        orcid.run_campaigns()


def _researcher(emulator, n: int) -> dict:
    return emulator.new_researcher(given_names=f"Grad{n:03d}", family_name="Person",
                                   email=email(n), password=f"pw-{n:03d}-secret")


def test_a_200_person_campaign(make_app, campaign_smtp, emulator, monkeypatch, tmp_path):
    started = time.monotonic()
    smtp = campaign_smtp
    roles = {n: role(n) for n in range(1, 201)}
    smtp.refuse = {email(n) for n, r in roles.items() if r == "bounce"}
    smtp.busy = {email(n) for n, r in roles.items() if r == "busy"}
    smtp.hold_for = email(HELD)
    rows = [graduate(n, **SPOILED.get(n, {})) for n in range(1, 201)]
    config = _config(tmp_path / "site.sqlite", smtp, emulator)

    with fake_clock(monkeypatch) as now:
        first = make_app(**config)
        with first.app_context():
            campaign = orcid.create_campaign(name="Alumni 2000-2019",
                                             csv_text=graduates_csv(rows))
            campaign_id = campaign.id
            assert sorted(p.line for p in cp.problems_of(campaign)) == sorted(
                n + 1 for n in SPOILED)  # line 1 is the header
            assert sum(orcid.campaign_counts(campaign_id).values()) == 192

        # 1. a run in its own process, killed in the middle of one person's SMTP transaction
        _killed_run(config, smtp)
        before = smtp.per_address()
        assert before and max(before.values()) == 1 and email(HELD) not in before
        assert not {email(7), email(8)} & set(before)  # the busy mailboxes said 450

        # 2. a new app, once the dead run's claim has lapsed, carries on: nobody twice
        now[0] += timedelta(minutes=11)
        app = make_app(**config)
        with app.app_context():
            assert orcid.run_campaigns().recovered == 1  # the held one, counted as sent
            now[0] += timedelta(minutes=10)
            orcid.run_campaigns()  # the busy mailboxes, retried
        sent = smtp.per_address()
        emailed = {email(n) for n, r in roles.items() if r not in ("spoiled", "bounce")}
        assert set(sent) == emailed - {email(HELD)} and set(sent.values()) == {1}
        runner = app.test_cli_runner()
        result = runner.invoke(args=["orcid", "campaign", "bounce", email(3), email(4)])
        assert "2 people marked bounced" in result.output

        # 3. the answers to the first email
        client = app.test_client()
        for n, r in roles.items():
            if r in ("consent", "consent_no_thesis", "decline"):
                page = answer(client, emulator, last_link(smtp, email(n)), _researcher(emulator, n),
                              add_work=r == "consent", approve=r != "decline")
                assert page.status_code == 200, (n, page.get_data(as_text=True)[:300])
            elif r == "open_only":
                assert client.get(path_of(last_link(smtp, email(n)))).status_code == 200
        _deliver(app, orcid)

        # 4. first reminders a week later; some answer them (the first link no longer works)
        now[0] += timedelta(days=7, hours=1)
        with app.app_context():
            assert orcid.run_campaigns().reminded == sum(
                1 for r in roles.values()
                if r in ("busy", "open_only", "consent_after_reminder", "click_expired",
                         "silent"))
        for n, r in roles.items():
            if r == "consent_after_reminder":
                messages = smtp.to(email(n))
                assert "Reminder" in str(messages[-1]["Subject"])
                assert client.get(path_of(link_in(messages[0]))).status_code == 404
                page = answer(client, emulator, link_in(messages[-1]), _researcher(emulator, n),
                              add_work=True)
                assert page.status_code == 200
        _deliver(app, orcid)

        # 5. the second and last reminder, then the links expire; no third reminder ever
        now[0] += timedelta(days=7, hours=1)
        with app.app_context():
            orcid.run_campaigns()
        now[0] += timedelta(days=30)
        for n, r in roles.items():
            if r == "click_expired":
                assert client.get(path_of(last_link(smtp, email(n)))).status_code == 410
        with app.app_context():
            assert orcid.run_campaigns().due == 0
        counts = smtp.per_address()
        for n, r in roles.items():
            if r in ("silent", "open_only", "busy", "click_expired"):
                assert counts[email(n)] == (2 if n == HELD else 3), n

        # 6. the status CSV says what each person did
        result = runner.invoke(args=["orcid", "campaign", "export", str(campaign_id)])
        exported = {row["email"]: row for row in csv.DictReader(io.StringIO(result.output))}
        for n, r in roles.items():
            if r == "spoiled":
                continue
            row = exported[email(n)]
            assert row["status"] == EXPECTED[r], (n, r, row)
            assert row["line"] == str(n + 1)
        assert exported[email(HELD)]["reminders_sent"] == "2"
        assert "550" in exported[email(5)]["reason"]
        assert exported[email(2)]["reason"] == NOT_ADDED.text()
        assert "expired" in exported[email(1)]["reason"]
        with app.app_context():
            final = {k: v for k, v in orcid.campaign_counts(campaign_id).items() if v}
            assert orcid.get_campaign(campaign_id).finished_at is not None

    # 7. the emulator holds the thesis and the degree of those who consented, nobody else's
    for n, r in roles.items():
        if r not in ("consent", "consent_after_reminder", "consent_no_thesis", "decline"):
            continue
        record = emulator.record(emulator.researcher(email(n))["orcid"])
        works = [w for w in record["works"] if w["title"] == f"Essays on topic {n}"]
        degrees = [e for e in record["educations"] if e["role_title"] == "PhD in History"]
        wanted = 1 if r in ("consent", "consent_after_reminder") else 0
        assert (len(works), len(degrees)) == (wanted, wanted), (n, r)
    print(f"\n200-line campaign: {final}; wall time {time.monotonic() - started:.1f} s")


def test_the_run_loop_survives_a_database_it_cannot_reach(make_app, campaign_smtp, emulator,
                                                          tmp_path):
    # `flask orcid campaign run --loop` from a service manager: a step that meets a locked
    # (or restarting) database fails, is logged, and the next step sends the emails.
    db_file = tmp_path / "site.sqlite"
    config = _config(db_file, campaign_smtp, emulator)
    app = make_app(**config)
    with app.app_context():
        orcid.create_campaign(name="Alumni", csv_text=graduates_csv(
            [graduate(n) for n in (1, 2, 3)]))
    lock = sqlite3.connect(str(db_file), timeout=10, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # longer than the loop's busy timeout
    output = tmp_path / "loop.log"
    short = {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 0.2}}}
    with open(output, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.campaign_process",
             json.dumps({**config, **short, "_loop": 0.1})],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "the campaign step failed; the next one tries again" not in output.read_text():
            assert process.poll() is None, output.read_text()[-3000:]
            assert time.monotonic() < deadline, "the locked database never failed a step"
            time.sleep(0.05)
        lock.execute("COMMIT")
        while len(campaign_smtp.messages) < 3:
            assert process.poll() is None, output.read_text()[-3000:]
            assert time.monotonic() < deadline, "no emails after the lock was released"
            time.sleep(0.05)
        while True:  # the mail server has the emails; the step records them next
            with app.app_context():
                if orcid.campaign_counts(1)[cp.INVITED] == 3:
                    break
            assert time.monotonic() < deadline, "the emails sent were never recorded"
            time.sleep(0.05)
        assert process.poll() is None, output.read_text()[-3000:]
        assert "database is locked" in output.read_text()
    finally:
        lock.close()
        process.kill()
        process.wait(30)

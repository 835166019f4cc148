"""What the benchmarks share: the emulator in its own process, a host app, connected researchers
and published works. Not a test."""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask_orcid import ORCID, ExternalId, FuzzyDate, Work  # noqa: E402
from flask_orcid.protocol.client import ORCIDClient  # noqa: E402

CLIENT_ID = "APP-DEMO000000000001"
CLIENT_SECRET = "demo-secret-0001"
REDIRECT_URI = "http://127.0.0.1:5000/orcid/callback"
UNLIMITED = {"rate": 100000, "burst": 100000, "latency_ms": 0}
#: one Fernet key for every process of a run (the worker processes decrypt the same tokens)
TOKEN_KEY = os.environ.setdefault("BENCH_TOKEN_KEY", Fernet.generate_key().decode())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """``python -m flask_orcid.emulator`` in its own process (its CPU is not ours)."""

    def __init__(self) -> None:
        port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask_orcid.emulator", "--host", "127.0.0.1", "--port",
             str(port), "--quiet"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        for _ in range(400):
            try:
                requests.get(f"{self.url}/_emulator/researchers", timeout=0.5)
                return
            except requests.RequestException:
                if self.proc.poll() is not None:
                    raise SystemExit("the emulator did not start") from None
                time.sleep(0.05)
        self.stop()
        raise SystemExit("the emulator did not answer within 20 seconds")

    def limits(self, **kw: Any) -> None:
        requests.put(f"{self.url}/_emulator/limits", json=kw, timeout=10).raise_for_status()

    def reset_requests(self) -> None:
        requests.delete(f"{self.url}/_emulator/requests", timeout=10)

    def requests_log(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/_emulator/requests", timeout=30).json()

    def record(self, orcid: str) -> dict[str, Any]:
        return requests.get(f"{self.url}/_emulator/records/{orcid}", timeout=30).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def make_app(database_url: str, emulator_url: str, **config: Any) -> tuple[Flask, Any, ORCID]:
    db = SQLAlchemy()
    orcid = ORCID(db=db)
    app = Flask("bench")
    app.config.update(
        SECRET_KEY="bench", SQLALCHEMY_DATABASE_URI=database_url,
        ORCID_ENVIRONMENT="emulator", ORCID_EMULATOR_URL=emulator_url,
        ORCID_CLIENT_ID=CLIENT_ID, ORCID_CLIENT_SECRET=CLIENT_SECRET,
        ORCID_TOKEN_KEYS=TOKEN_KEY,
    )
    if os.environ.get("BENCH_RATE_BUDGET"):  # --rate-budget: another backend than the default
        app.config["ORCID_RATE_BUDGET"] = os.environ["BENCH_RATE_BUDGET"]
    app.config.update(config)
    db.init_app(app)
    orcid.init_app(app)
    return app, db, orcid


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else ""


def oauth_code(url: str, email: str, password: str) -> str:
    """Drive the emulator's sign-in and consent forms like a browser; the authorization code."""
    query = urlencode({"client_id": CLIENT_ID, "response_type": "code",
                       "scope": "/read-limited /activities/update", "redirect_uri": REDIRECT_URI})
    with requests.Session() as http:
        page = http.get(f"{url}/oauth/authorize?{query}", timeout=10)
        response = http.post(f"{url}/signin", data={
            "csrf_token": _hidden(page.text, "csrf_token"),
            "next_query": _hidden(page.text, "next_query"),
            "username": email, "password": password,
        }, allow_redirects=False, timeout=10)
        location = response.headers["Location"]
        page = http.get(location if location.startswith("http") else url + location, timeout=10)
        response = http.post(f"{url}/oauth/authorize", data={
            "csrf_token": _hidden(page.text, "csrf_token"),
            "next_query": _hidden(page.text, "next_query"), "action": "authorize",
        }, allow_redirects=False, timeout=10)
        target = response.headers["Location"]
    return parse_qs(urlsplit(target).query)["code"][0]


@dataclass
class Setup:
    database_url: str
    orcids: list[str]
    works: int


_SEQ = [0]


def populate(emulator: Emulator, database_url: str, researchers: int, works: int) -> Setup:
    """A fresh outbox: ``researchers`` connected, ``works`` published round-robin."""
    emulator.limits(**UNLIMITED)
    app, db, orcid = make_app(database_url, emulator.url)
    client = ORCIDClient(CLIENT_ID, CLIENT_SECRET, environment="emulator",
                         emulator_url=emulator.url, rate=100000, burst=100000)
    _SEQ[0] += 1
    stamp = f"{int(time.time())}-{_SEQ[0]}"
    orcids = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        user_keys = []
        for i in range(researchers):
            email, password = f"bench{i}-{stamp}@example.edu", f"bench-pw-{i}"
            requests.post(f"{emulator.url}/_emulator/researchers", json={
                "given_names": "Bench", "family_name": f"Researcher {i}", "email": email,
                "password": password}, timeout=10).raise_for_status()
            token = client.exchange_code(oauth_code(emulator.url, email, password), REDIRECT_URI)
            account = orcid.Account(user_key=f"user-{i}", orcid=token["orcid"])
            orcid.store_token(account, token)
            db.session.add(account)
            user_keys.append(f"user-{i}")
            orcids.append(token["orcid"])
        db.session.commit()
        for n in range(works):
            orcid.publish(user_keys[n % len(user_keys)], f"thesis:{n}", thesis(n))
            if n % 1000 == 999:
                db.session.commit()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return Setup(database_url, orcids, works)


def thesis(n: int) -> Work:
    return Work(title=f"Benchmark thesis {n}", type="dissertation-thesis",
                publication_date=FuzzyDate(2024, 1 + n % 12),
                external_ids=[ExternalId("handle", f"20.500.99999/{n}", "self")])


def outcome(emulator: Emulator, setup: Setup) -> dict[str, int]:
    """What the records hold: ours on the records, duplicates; and the rows synced."""
    on_record = duplicates = 0
    for orcid_id in setup.orcids:
        record = emulator.record(orcid_id)
        ours = [w for w in record["works"] if w.get("source_client_id") == CLIENT_ID]
        handles = [x["value"] for w in ours for x in w["external_ids"]
                   if x.get("relationship") == "self"]
        on_record += len(set(handles))
        duplicates += len(handles) - len(set(handles))
    engine = sa.create_engine(setup.database_url)
    with engine.connect() as conn:
        synced = conn.execute(sa.text(
            "SELECT count(*) FROM orcid_outbox_items WHERE state = 'synced'")).scalar_one()
    engine.dispose()
    return {"on_record": on_record, "duplicates": duplicates, "synced": int(synced)}

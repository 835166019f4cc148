"""Benchmark of the outbox worker against the emulator under ORCID's member rate limit.

Publishes N works for M researchers (default 1,000 and 100), then runs one delivery pass
against an emulator started on a local port with 24 requests/s, burst 40 and 100 ms of added
latency, and prints the wall time, the HTTP requests made, works per second, the floor the rate
limit sets for that many requests ((requests - burst) / rate), our time over that floor, and the
503s received. Not a test: it prints figures (``make bench``).

    python bench/delivery.py [--works 1000] [--researchers 100] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import html
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask_sqlalchemy import SQLAlchemy  # noqa: E402

from flask_orcid import ORCID, ExternalId, FuzzyDate, Work  # noqa: E402
from flask_orcid.protocol.client import ORCIDClient  # noqa: E402

CLIENT_ID = "APP-DEMO000000000001"
CLIENT_SECRET = "demo-secret-0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator(port: int, rate: float, burst: int, latency_ms: int):
    """The emulator in its own process (so it does not share our interpreter's GIL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask_orcid.emulator", "--host", "127.0.0.1", "--port", str(port),
         "--rate", str(rate), "--burst", str(burst), "--latency-ms", str(latency_ms), "--quiet"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(f"{url}/_emulator/researchers", timeout=0.5)
            return proc, url
        except requests.RequestException:
            if proc.poll() is not None:
                raise SystemExit("the emulator did not start (python -m flask_orcid.emulator)") from None
            time.sleep(0.05)
    proc.terminate()
    raise SystemExit("the emulator did not answer within 10 seconds")


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else ""


def oauth_code(url: str, email: str, password: str, redirect_uri: str) -> str:
    """Drive the emulator's sign-in and consent forms like a browser; the authorization code."""
    query = urlencode({"client_id": CLIENT_ID, "response_type": "code",
                       "scope": "/read-limited /activities/update", "redirect_uri": redirect_uri})
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=1000)
    parser.add_argument("--researchers", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=24.0)
    parser.add_argument("--burst", type=int, default=40)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL (default: a SQLite file in a temporary directory)")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    database_url = args.database_url or f"sqlite:///{tmp.name}/bench.db"
    proc, url = start_emulator(free_port(), args.rate, args.burst, args.latency_ms)
    try:
        run(args, url, database_url)
    finally:
        proc.terminate()
        proc.wait(10)
        tmp.cleanup()


def run(args, url: str, database_url: str) -> None:
    # Setup runs without limits; the measured pass runs with ORCID's.
    requests.put(f"{url}/_emulator/limits",
                 json={"rate": 100000, "burst": 100000, "latency_ms": 0}, timeout=10)
    db = SQLAlchemy()
    orcid = ORCID(db=db)
    app = Flask("bench")
    app.config.update(
        SECRET_KEY="bench", SQLALCHEMY_DATABASE_URI=database_url,
        ORCID_ENVIRONMENT="emulator", ORCID_EMULATOR_URL=url,
        ORCID_CLIENT_ID=CLIENT_ID, ORCID_CLIENT_SECRET=CLIENT_SECRET,
        ORCID_RATE_LIMIT=args.rate, ORCID_RATE_BURST=args.burst,
        ORCID_TOKEN_KEYS=Fernet.generate_key().decode(),
    )
    db.init_app(app)
    orcid.init_app(app)
    client = ORCIDClient(CLIENT_ID, CLIENT_SECRET, environment="emulator", emulator_url=url,
                         rate=100000, burst=100000)
    redirect_uri = "http://127.0.0.1:5000/orcid/callback"
    started = time.monotonic()
    with app.app_context():
        db.drop_all()
        db.create_all()
        user_keys = []
        for i in range(args.researchers):
            email = f"bench{i}-{int(started)}@example.edu"
            password = f"bench-pw-{i}"
            made = requests.post(f"{url}/_emulator/researchers", json={
                "given_names": "Bench", "family_name": f"Researcher {i}", "email": email,
                "password": password}, timeout=10)
            made.raise_for_status()
            token = client.exchange_code(oauth_code(url, email, password, redirect_uri),
                                         redirect_uri)
            account = orcid.Account(user_key=f"user-{i}", orcid=token["orcid"])
            orcid.store_token(account, token)
            db.session.add(account)
            user_keys.append(f"user-{i}")
        db.session.commit()
        for n in range(args.works):
            work = Work(
                title=f"Benchmark thesis {n}", type="dissertation-thesis",
                publication_date=FuzzyDate(2024, 1 + n % 12),
                external_ids=[ExternalId("handle", f"20.500.99999/{n}", "self")],
            )
            orcid.publish(user_keys[n % len(user_keys)], f"thesis:{n}", work)
        db.session.commit()
    print(f"setup: {args.researchers} researchers connected, {args.works} works published "
          f"({time.monotonic() - started:.1f}s)")

    requests.put(f"{url}/_emulator/limits", json={
        "rate": args.rate, "burst": args.burst, "latency_ms": args.latency_ms}, timeout=10)
    requests.delete(f"{url}/_emulator/requests", timeout=10)
    time.sleep(args.burst / args.rate + 0.1)  # let the emulator's bucket fill up again

    def progress(result) -> None:
        print(f"  ... {result.synced} synced, {result.failed} to retry", file=sys.stderr)

    with app.app_context():
        deliverer = orcid.deliverer(app, concurrency=args.concurrency, progress=progress)
        t0 = time.monotonic()
        result = deliverer.run_once()
        wall = time.monotonic() - t0
        Event = orcid.models.Event
        Item = orcid.models.Item
        import sqlalchemy as sa

        got_503 = db.session.scalar(sa.select(sa.func.count()).where(Event.status == 503))
        synced = db.session.scalar(sa.select(sa.func.count()).where(Item.state == "synced"))
        accounts = db.session.scalars(sa.select(orcid.Account)).all()
        orcids = [a.orcid for a in accounts]

    stats = requests.get(f"{url}/_emulator/requests", timeout=10).json()
    emulator_503 = sum(1 for entry in stats["log"] if entry["status"] == 503)
    requests.put(f"{url}/_emulator/limits",
                 json={"rate": 100000, "burst": 100000, "latency_ms": 0}, timeout=10)
    on_record = duplicates = 0
    for orcid_id in orcids:
        record = requests.get(f"{url}/_emulator/records/{orcid_id}", timeout=10).json()
        ours = [w for w in record["works"] if w.get("source_client_id") == CLIENT_ID]
        handles = [x["value"] for w in ours for x in w["external_ids"]
                   if x.get("relationship") == "self"]
        on_record += len(set(handles))
        duplicates += len(handles) - len(set(handles))

    n_requests = stats["count"]
    floor = max(0.0, (n_requests - args.burst) / args.rate)
    print(f"works delivered:     {synced}/{args.works} synced, {on_record} on the records, "
          f"{duplicates} duplicates")
    print(f"wall time:           {wall:.2f} s")
    print(f"HTTP requests:       {n_requests} (client side: {result.requests})")
    print(f"works/s:             {args.works / wall:.1f}")
    print(f"rate-limit floor:    {floor:.2f} s  (({n_requests} - {args.burst}) / {args.rate:g})")
    print(f"ratio to floor:      {wall / floor:.2f}x" if floor else "ratio to floor:     n/a")
    print(f"503s received:       {max(got_503, emulator_503)}")


if __name__ == "__main__":
    main()

"""``make demo``: the local ORCID emulator and the sample repository, two servers on 127.0.0.1.

Every ORCID call the repository makes is real HTTP to the emulator, exactly as it would be to
orcid.org. The repository's database and uploads live under ``instance/``; the emulator keeps
its registry in ``instance/emulator.sqlite`` so a restart keeps both sides consistent.
Ctrl-C stops both servers.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from . import ROOT, create_app
from .config import DEMO_EMULATOR_URL_FILE, DEMO_TOKEN_KEY_FILE
from .db import db
from .demo_orcid import connect_sample_authors
from .models import User
from .samples import seed_sample_theses

DEMO_ACCOUNTS = [
    # (email, password, given names, family name, admin)
    ("josiah@example.edu", "student-1", "Josiah", "Carberry", False),
    ("maria@example.edu", "student-2", "María José", "García Núñez", False),
    ("admin@example.edu", "admin-1", "Grace", "Hopper", True),
]


def free_port(preferred: int) -> int:
    """``preferred`` if nobody listens there, else any free port."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port on 127.0.0.1")


def start_emulator(port: int, db_file: Path | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "flask_orcid.emulator", "--host", "127.0.0.1",
           "--port", str(port), "--quiet"]
    if db_file is not None:
        cmd += ["--db", str(db_file)]
    return subprocess.Popen(cmd, cwd=ROOT)


def wait_for(url: str, process: subprocess.Popen, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the ORCID emulator exited with status {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"the ORCID emulator did not answer at {url}")


def token_keys(instance: Path) -> str:
    """A Fernet key kept in the instance folder, so stored ORCID tokens survive restarts (and
    ``flask --app example_repository orcid ...`` finds it, see ``config.demo_settings``)."""
    path = instance / DEMO_TOKEN_KEY_FILE
    if not path.is_file():
        path.write_bytes(Fernet.generate_key())
        os.chmod(path, 0o600)
    return path.read_text().strip()


def seed_accounts(app) -> None:  # noqa: ANN001
    with app.app_context():
        for email, password, given, family, admin in DEMO_ACCOUNTS:
            user = db.session.scalar(db.select(User).filter_by(email=email))
            if user is None:
                user = User(email=email, given_names=given, family_name=family, is_admin=admin)
                user.set_password(password)
                db.session.add(user)
        db.session.commit()
        seed_sample_theses()


def name_the_client(app, emulator_url: str) -> None:  # noqa: ANN001
    """ORCID's screens name the client: call the demo client by the repository's own name."""
    response = requests.post(f"{emulator_url}/_emulator/clients", timeout=10, json={
        "client_id": app.config["ORCID_CLIENT_ID"], "name": app.config["REPOSITORY_NAME"]})
    response.raise_for_status()


def banner(repo_url: str, emulator_url: str, researchers: list[dict]) -> str:
    lines = [
        "",
        "  Sample thesis repository (flask-orcid demo)",
        "  ===========================================",
        f"  Repository:      {repo_url}/",
        f"  ORCID emulator:  {emulator_url}/   (inspect a record: {emulator_url}/_emulator/records/<iD>)",
        "",
        "  Repository accounts (email / password):",
    ]
    for email, password, given, family, admin in DEMO_ACCOUNTS:
        role = "graduate-school admin" if admin else "student"
        lines.append(f"    {email:<24} {password:<12} {given} {family} ({role})")
    lines += ["", "  ORCID researchers at the emulator (email / password / iD):"]
    for r in researchers:
        name = f"{r.get('given_names', '')} {r.get('family_name', '')}".strip()
        lines.append(f"    {r.get('email', ''):<24} {r.get('password', ''):<12} "
                     f"{r.get('orcid', '')}  {name}")
    lines += [
        "",
        "  Try it: log in as a student, choose 'Submit your thesis', connect ORCID (sign in at the",
        "  emulator as the researcher with the same email), submit; then log in as the admin and",
        "  accept. The thesis and the degree appear on the emulator's record within seconds.",
        "",
        "  Ctrl-C stops both servers.",
        "",
    ]
    return "\n".join(lines)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("REPOSITORY_PORT", 5000)),
                        help="repository port (a free one is chosen if taken; default 5000)")
    parser.add_argument("--emulator-port", type=int,
                        default=int(os.environ.get("EMULATOR_PORT", 5001)),
                        help="emulator port (a free one is chosen if taken; default 5001)")
    parser.add_argument("--fresh", action="store_true",
                        help="start from an empty database and a freshly seeded emulator")
    return parser.parse_args(argv)


def _demo_app(instance: Path, emulator_url: str) -> Any:
    """The repository on the emulator, as ``make demo`` runs it."""
    os.environ.setdefault("REPOSITORY_INSTANCE_PATH", str(instance))
    return create_app({
        "ORCID_ENVIRONMENT": "emulator",
        "ORCID_EMULATOR_URL": emulator_url,
        "ORCID_CLIENT_ID": os.environ.get("ORCID_CLIENT_ID", "APP-DEMO000000000001"),
        "ORCID_CLIENT_SECRET": os.environ.get("ORCID_CLIENT_SECRET", "demo-secret-0001"),
        "ORCID_SUPPORT_EMAIL": "etd-help@example.edu",
        "ORCID_TOKEN_KEYS": os.environ.get("ORCID_TOKEN_KEYS") or token_keys(instance),
        # deposits reach the emulator without a separate `flask orcid deliver` worker
        "ORCID_DELIVERY": "thread",
        # the demo institution's email domain: prefill reads the researcher's /summary and
        # trusts an affiliation there when they have a verified email at it
        "ORCID_INSTITUTION_DOMAINS": "example.edu",
        # the emulator grants the demo client /premium-notification (ORCID: premium members)
        "ORCID_PREMIUM_NOTIFICATIONS": True,
    })


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # example_repository.db says what the migrations did, in one line
    logging.getLogger("alembic").setLevel(logging.WARNING)

    instance = Path(os.environ.get("REPOSITORY_INSTANCE_PATH") or ROOT / "instance")
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    (instance / "uploads").mkdir(mode=0o700, exist_ok=True)
    repo_db = instance / "repository.sqlite"
    emulator_db = instance / "emulator.sqlite"
    if args.fresh:
        for path in (repo_db, emulator_db):
            path.unlink(missing_ok=True)

    emulator_port = free_port(args.emulator_port)
    emulator_url = f"http://127.0.0.1:{emulator_port}"

    emulator = start_emulator(emulator_port, emulator_db)
    # where the CLI in another terminal finds this emulator (the port may not be 5001)
    (instance / DEMO_EMULATOR_URL_FILE).write_text(emulator_url + "\n")
    try:
        wait_for(f"{emulator_url}/_emulator/researchers", emulator)
        researchers = requests.get(f"{emulator_url}/_emulator/researchers", timeout=5).json()
        if isinstance(researchers, dict):
            researchers = researchers.get("researchers", [])

        app = _demo_app(instance, emulator_url)
        seed_accounts(app)
        name_the_client(app, emulator_url)

        # Listen first, then announce: the printed URL answers as soon as it is shown.
        try:
            server = make_server("127.0.0.1", args.port, app, threaded=True)
        except OSError:
            server = make_server("127.0.0.1", 0, app, threaded=True)
        repo_url = f"http://127.0.0.1:{server.server_port}"
        app.config["REPOSITORY_BASE_URL"] = repo_url
        # the sample theses' authors connect their iDs (first run only): authenticated iDs show
        try:
            connect_sample_authors(app, repo_url, emulator_url)
        except (RuntimeError, requests.RequestException) as exc:
            logging.getLogger(__name__).warning("sample authors not connected: %s", exc)
        print(banner(repo_url, emulator_url, researchers), flush=True)
        signal.signal(signal.SIGTERM, _stop)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    finally:
        emulator.terminate()
        try:
            emulator.wait(timeout=5)
        except subprocess.TimeoutExpired:
            emulator.kill()
        print("\nStopped the repository and the ORCID emulator.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The moving parts of the fault suite: an emulator process that can be killed and restarted
with its state kept, delivery worker processes that can be killed with SIGKILL, a database
whose connections can be cut (PostgreSQL) or locked (SQLite), and the record checks.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

from tests.plugins.emulator import EmulatorHandle, EmulatorServer

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class EmulatorProcess:
    """``python -m flask_orcid.emulator --db FILE`` on a fixed free port: state survives kill -9."""

    def __init__(self, workdir: Path) -> None:
        self.db = workdir / "emulator.db"
        self.log = workdir / "emulator.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "flask_orcid.emulator", "--port", str(self.port),
                 "--db", str(self.db), "--quiet", "--rate", "100000", "--burst", "100000"],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait(self._up, 20, "the emulator to start")

    def _up(self) -> bool:
        try:
            return requests.get(f"{self.url}/_emulator/limits", timeout=1).ok
        except requests.RequestException:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def handle(self) -> EmulatorHandle:
        return EmulatorHandle(EmulatorServer(self.url, None, None))  # type: ignore[arg-type]


class Workers:
    """Delivery worker processes running ``flask orcid deliver --loop``."""

    def __init__(self, config: dict[str, Any], workdir: Path, count: int) -> None:
        self.config = config
        self.workdir = workdir
        self.count = count
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * count
        self.started = 0

    def start(self, slot: int) -> None:
        self.started += 1
        log = self.workdir / f"worker-{slot}-{self.started}.log"
        with open(log, "wb") as out:
            self.procs[slot] = subprocess.Popen(
                [sys.executable, "-m", "tests.outbox_worker", json.dumps(self.config)],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def start_all(self) -> None:
        for slot in range(self.count):
            self.start(slot)

    def kill(self, slot: int) -> None:
        proc = self.procs[slot]
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        self.procs[slot] = None

    def kill_all(self) -> None:
        for slot in range(self.count):
            self.kill(slot)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p is not None]

    def check_alive(self) -> None:
        """No loop may have died by itself (the CLI loop survives every error)."""
        for slot, proc in enumerate(self.procs):
            if proc is not None and proc.poll() is not None:
                logs = sorted(self.workdir.glob(f"worker-{slot}-*.log"))
                raise AssertionError(f"worker {slot} exited with {proc.returncode}: "
                                     f"{logs[-1].read_text()[-3000:] if logs else ''}")


class Database:
    """Cutting the workers off their database: PostgreSQL terminates their connections,
    SQLite holds an exclusive lock longer than their busy timeout."""

    def __init__(self, url: str, worker_app_name: str | None) -> None:
        self.url = url
        self.worker_app_name = worker_app_name

    def cut(self, rng: Any) -> None:
        if self.worker_app_name is not None:
            engine = sa.create_engine(self.url)
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name"), {"name": self.worker_app_name})
            finally:
                engine.dispose()
            return
        path = sa.engine.make_url(self.url).database
        conn = sqlite3.connect(str(path), timeout=10, isolation_level=None)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            time.sleep(rng.uniform(0.6, 1.0))
            conn.execute("COMMIT")
        finally:
            conn.close()


def connector(handle: EmulatorHandle) -> Any:
    """``connect(client, researcher)`` through the real /orcid/connect flow of ``handle``."""

    def connect(client: Any, researcher: dict[str, Any]) -> Any:
        response = client.get("/orcid/connect")
        location = response.headers["Location"]
        with requests.Session() as http:
            url = handle.consent(http, location, researcher["email"], researcher["password"])
        parts = urlsplit(url)
        return client.get(f"{parts.path}?{parts.query}")

    return connect


@dataclass
class Ledger:
    """What the host wants on each record: (user, key) -> (self id value, title) or None."""

    wanted: dict[tuple[str, str], tuple[str, str] | None] = field(default_factory=dict)
    #: every self id value a key ever had (a copy under any of them would be a duplicate)
    history: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def want(self, user: str, key: str, value: str, title: str) -> None:
        self.wanted[(user, key)] = (value, title)
        self.history.setdefault((user, key), set()).add(value)

    def drop(self, user: str, key: str) -> None:
        self.wanted[(user, key)] = None


@dataclass
class Verdict:
    lost: list[Any] = field(default_factory=list)
    duplicated: list[Any] = field(default_factory=list)
    stale: list[Any] = field(default_factory=list)
    retracted_present: list[Any] = field(default_factory=list)
    strays: list[Any] = field(default_factory=list)

    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.stale or self.retracted_present
                    or self.strays)


def judge(ledger: Ledger, records: dict[str, list[dict[str, Any]]],
          orcid_of: dict[str, str]) -> Verdict:
    """Compare the emulator's records (our works only) with what the host wants."""
    verdict = Verdict()
    for user, works in records.items():
        by_value: dict[str, list[dict[str, Any]]] = {}
        for w in works:
            value = next(x["value"] for x in w["external_ids"] if x.get("relationship") == "self")
            by_value.setdefault(value, []).append(w)
        claimed: set[str] = set()
        for (owner, key), want in ledger.wanted.items():
            if owner != user:
                continue
            values = ledger.history[(owner, key)]
            found = [w for v in values for w in by_value.get(v, [])]
            claimed |= values
            if want is None:
                if found:
                    verdict.retracted_present.append((user, key, found))
            elif not by_value.get(want[0]):
                verdict.lost.append((user, key, want, found))
            elif len(found) > 1:
                verdict.duplicated.append((user, key, len(found)))
            elif found[0]["title"] != want[1]:
                verdict.stale.append((user, key, found[0]["title"], want[1]))
        strays = [v for v in by_value if v not in claimed]
        if strays:
            verdict.strays.append((orcid_of[user], strays))
    return verdict

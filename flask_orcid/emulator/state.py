"""The emulator's registry state: clients, researchers, their items, codes, tokens, webhooks.

Everything lives in memory behind one re-entrant lock (the development server is threaded).
With a database file the whole state is written as a JSON snapshot into one SQLite row after
every change and read back at start: simple, and enough for a demo that survives a restart.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .inbox_model import Notification

#: ``expires_in`` of every token ORCID issues (about 20 years, API-FACTS §2.3).
TOKEN_LIFETIME = 631138518
#: An authorization code must be exchanged within 10 minutes (API-FACTS §2.2).
CODE_LIFETIME = 600

#: Singular section name -> plural summary endpoint.
SECTIONS = {
    "work": "works",
    "education": "educations",
    "employment": "employments",
    "qualification": "qualifications",
    "distinction": "distinctions",
    "invited-position": "invited-positions",
    "membership": "memberships",
    "service": "services",
}
AFFILIATION_SECTIONS = tuple(s for s in SECTIONS if s != "work")
PLURALS = {plural: singular for singular, plural in SECTIONS.items()}

#: Scopes a researcher can grant through /oauth/authorize (API-FACTS §3).
USER_SCOPES = ("/authenticate", "openid", "/read-limited", "/activities/update", "/person/update")
#: Scopes of the client_credentials grant; /webhook and /premium-notification are granted to
#: premium members only (ORCID-Source: orcid-persistence/src/main/resources/db/updates/
#: notifications_part2.xml:33).
CLIENT_SCOPES = ("/read-public", "/webhook", "/premium-notification")
PREMIUM_SCOPES = ("/webhook", "/premium-notification")


@dataclass
class Client:
    client_id: str
    secret: str
    name: str
    redirect_uris: list[str]
    premium: bool = False


@dataclass
class Email:
    email: str
    primary: bool = False
    verified: bool = True
    visibility: str = "public"


@dataclass
class Item:
    """One activity on a record (a work or an affiliation), in the emulator's own neutral form."""

    put_code: int
    section: str
    data: dict[str, Any]
    visibility: str
    created: float
    modified: float
    source_client_id: str | None = None
    source_orcid: str | None = None
    source_name: str = ""


@dataclass
class Researcher:
    orcid: str
    password: str
    given_names: str
    family_name: str | None
    emails: list[Email]
    credit_name: str | None = None
    other_names: list[str] = field(default_factory=list)
    biography: str | None = None
    name_visibility: str = "public"
    default_visibility: str = "public"
    locale: str = "en"
    created: float = 0.0
    items: dict[str, dict[int, Item]] = field(default_factory=dict)
    #: "active", "locked", "deactivated", "deprecated" or "merged" (record_status.py).
    status: str = "active"
    #: The primary record of a deprecated or merged one.
    primary: str | None = None

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.family_name) if p)

    def section(self, section: str) -> dict[int, Item]:
        return self.items.setdefault(section, {})

    def all_items(self) -> list[Item]:
        return [item for section in SECTIONS for item in self.items.get(section, {}).values()]

    def find(self, put_code: int) -> Item | None:
        for item in self.all_items():
            if item.put_code == put_code:
                return item
        return None


@dataclass
class Token:
    id: int
    access_token: str
    refresh_token: str
    client_id: str
    orcid: str | None
    scopes: list[str]
    grant_type: str
    issued_at: float
    expires_at: float
    #: active | revoked (by the client, or a reused code) | user_revoked
    status: str = "active"
    code: str | None = None
    auth_time: float | None = None


@dataclass
class AuthCode:
    code: str
    client_id: str
    orcid: str
    scopes: list[str]
    redirect_uri: str
    issued_at: float
    auth_time: float
    nonce: str | None = None
    used: bool = False
    token_ids: list[int] = field(default_factory=list)


@dataclass
class Webhook:
    orcid: str
    url: str
    client_id: str
    created: float


@dataclass
class Limits:
    rate: float = 24.0
    burst: int = 40
    latency_ms: int = 0


@dataclass
class Fault:
    """A scripted failure for the next ``count`` requests matching ``method`` and ``path``."""

    action: str  # status | hang | drop | apply_then_fail
    path: str = ".*"
    method: str | None = None
    count: int = 1
    status: int | None = None
    retry_after: int | None = None
    hang_seconds: float | None = None
    then: str | None = None  # for apply_then_fail: "status" (default) or "drop"
    hits: int = 0


def new_secret(n: int = 32) -> str:
    return secrets.token_urlsafe(n)


def new_client_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "APP-" + "".join(secrets.choice(alphabet) for _ in range(16))


def orcid_check_digit(base15: str) -> str:
    """ISO 7064 MOD 11-2 check character (API-FACTS §10); the emulator's own copy."""
    total = 0
    for ch in base15:
        total = (total + int(ch)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def make_orcid(number: int) -> str:
    base = f"{number:015d}"
    digits = base + orcid_check_digit(base)
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def orcid_is_valid(text: str) -> bool:
    bare = text.replace("-", "")
    if len(text) != 19 or len(bare) != 16 or not bare[:15].isdigit():
        return False
    if [text[i] for i in (4, 9, 14)] != ["-", "-", "-"]:
        return False
    return orcid_check_digit(bare[:15]) == bare[15]


class EmulatorState:
    """All registry data plus the knobs (limits, faults, clock) tests turn."""

    def __init__(self, clock: Callable[[], float] = time.time, db_path: str | None = None):
        self.lock = threading.RLock()
        self.clock = clock
        self.db_path = db_path
        #: called with an iD after any change to that record (webhooks listen here)
        self.listeners: list[Callable[[str], None]] = []
        self.clear()

    def record_changed(self, orcid: str) -> None:
        self.save()
        for listener in list(self.listeners):
            listener(orcid)

    # -- lifecycle ---------------------------------------------------------------------------
    def clear(self) -> None:
        with self.lock:
            self.clients: dict[str, Client] = {}
            self.researchers: dict[str, Researcher] = {}
            self.tokens: dict[int, Token] = {}
            self.codes: dict[str, AuthCode] = {}
            self.webhooks: list[Webhook] = []
            #: permission notifications by put-code (inbox.py, notifications.py)
            self.notifications: dict[int, Notification] = {}
            self.next_put_code = 1000
            self.next_token_id = 1
            self.next_orcid_number = 21900000
            self.clock_offset = 0.0
            self.faults: list[Fault] = []
            #: (disambiguation source, id) -> (name, city, region, country); see seed.ORGS
            self.orgs: dict[tuple[str, str], tuple[str, str, str | None, str]] = {}

    def now(self) -> float:
        return self.clock() + self.clock_offset

    # -- persistence -------------------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        return {
            "clients": [asdict(c) for c in self.clients.values()],
            "researchers": [asdict(r) for r in self.researchers.values()],
            "tokens": [asdict(t) for t in self.tokens.values()],
            "codes": [asdict(c) for c in self.codes.values()],
            "webhooks": [asdict(w) for w in self.webhooks],
            "notifications": [asdict(n) for n in self.notifications.values()],
            "next_put_code": self.next_put_code,
            "next_token_id": self.next_token_id,
            "next_orcid_number": self.next_orcid_number,
        }

    def _restore(self, data: dict[str, Any]) -> None:
        self.clients = {c["client_id"]: Client(**c) for c in data["clients"]}
        self.researchers = {}
        for raw in data["researchers"]:
            emails = [Email(**e) for e in raw.pop("emails")]
            items = {
                section: {int(pc): Item(**it) for pc, it in by_code.items()}
                for section, by_code in raw.pop("items").items()
            }
            self.researchers[raw["orcid"]] = Researcher(emails=emails, items=items, **raw)
        self.tokens = {t["id"]: Token(**t) for t in data["tokens"]}
        self.codes = {c["code"]: AuthCode(**c) for c in data["codes"]}
        self.webhooks = [Webhook(**w) for w in data["webhooks"]]
        self.notifications = {n["put_code"]: Notification(**n)
                              for n in data.get("notifications", [])}
        self.next_put_code = data["next_put_code"]
        self.next_token_id = data["next_token_id"]
        self.next_orcid_number = data["next_orcid_number"]

    def _connect(self) -> sqlite3.Connection:
        assert self.db_path
        conn = sqlite3.connect(self.db_path)
        conn.execute("CREATE TABLE IF NOT EXISTS emulator_state (id INTEGER PRIMARY KEY, data TEXT)")
        return conn

    def load(self) -> bool:
        """Read the snapshot from the database file; False when there is none yet."""
        if not self.db_path:
            return False
        with self.lock:
            conn = self._connect()
            try:
                row = conn.execute("SELECT data FROM emulator_state WHERE id = 1").fetchone()
            finally:
                conn.close()
            if row is None:
                return False
            self._restore(json.loads(row[0]))
            return True

    def save(self) -> None:
        """Write the snapshot (called after every change; a no-op without a database)."""
        if not self.db_path:
            return
        with self.lock:
            payload = json.dumps(self._snapshot())
            conn = self._connect()
            try:
                with conn:
                    conn.execute(
                        "INSERT OR REPLACE INTO emulator_state (id, data) VALUES (1, ?)", (payload,)
                    )
            finally:
                conn.close()

    # -- registry ----------------------------------------------------------------------------
    def add_client(
        self,
        name: str,
        redirect_uris: list[str],
        premium: bool = False,
        client_id: str | None = None,
        secret: str | None = None,
    ) -> Client:
        with self.lock:
            client = Client(
                client_id=client_id or new_client_id(),
                secret=secret or new_secret(24),
                name=name,
                redirect_uris=list(redirect_uris),
                premium=premium,
            )
            self.clients[client.client_id] = client
            return client

    def add_researcher(
        self,
        given_names: str,
        family_name: str | None,
        email: str,
        password: str,
        orcid: str | None = None,
        **extra: Any,
    ) -> Researcher:
        with self.lock:
            if orcid is None:
                orcid = make_orcid(self.next_orcid_number)
                self.next_orcid_number += 1
                while orcid in self.researchers:
                    orcid = make_orcid(self.next_orcid_number)
                    self.next_orcid_number += 1
            email_verified = extra.pop("email_verified", True)
            email_visibility = extra.pop("email_visibility", "public")
            researcher = Researcher(
                orcid=orcid,
                password=password,
                given_names=given_names,
                family_name=family_name,
                emails=[Email(email, True, email_verified, email_visibility)],
                created=self.now(),
                **extra,
            )
            self.researchers[orcid] = researcher
            return researcher

    def find_researcher(self, email_or_orcid: str) -> Researcher | None:
        key = (email_or_orcid or "").strip()
        if not key:
            return None
        for prefix in ("https://", "http://"):
            if key.startswith(prefix):
                key = key.rsplit("/", 1)[-1]
        if key in self.researchers:
            return self.researchers[key]
        lowered = key.lower()
        for researcher in self.researchers.values():
            if any(e.email.lower() == lowered for e in researcher.emails):
                return researcher
        return None

    def new_put_code(self) -> int:
        with self.lock:
            self.next_put_code += 1
            return self.next_put_code

    # -- tokens ------------------------------------------------------------------------------
    def issue_token(
        self,
        client_id: str,
        orcid: str | None,
        scopes: list[str],
        grant_type: str,
        code: str | None = None,
        auth_time: float | None = None,
    ) -> Token:
        with self.lock:
            now = self.now()
            token = Token(
                id=self.next_token_id,
                access_token=_uuid_like(),
                refresh_token=_uuid_like(),
                client_id=client_id,
                orcid=orcid,
                scopes=sorted(set(scopes)),
                grant_type=grant_type,
                issued_at=now,
                expires_at=now + TOKEN_LIFETIME,
                code=code,
                auth_time=auth_time,
            )
            self.next_token_id += 1
            self.tokens[token.id] = token
            return token

    def token_status(self, token: Token) -> str:
        if token.status == "active" and self.now() >= token.expires_at:
            return "expired"
        return token.status

    def find_token(self, value: str, *, refresh: bool = False) -> Token | None:
        if not value:
            return None
        with self.lock:
            for token in self.tokens.values():
                candidate = token.refresh_token if refresh else token.access_token
                if secrets.compare_digest(candidate, value):
                    return token
        return None

    def active_grant(self, client_id: str, orcid: str, scopes: list[str]) -> bool:
        """Whether the researcher has a live token for this client covering ``scopes``."""
        wanted = set(scopes)
        with self.lock:
            return any(
                t.client_id == client_id
                and t.orcid == orcid
                and self.token_status(t) == "active"
                and wanted <= set(t.scopes)
                for t in self.tokens.values()
            )

    def user_revoke(self, orcid: str, client_id: str) -> int:
        """The researcher removes a trusted organization: all its tokens become user_revoked."""
        count = 0
        with self.lock:
            for token in self.tokens.values():
                if token.orcid == orcid and token.client_id == client_id and token.status == "active":
                    token.status = "user_revoked"
                    count += 1
        return count

    def trusted_clients(self, orcid: str) -> list[Client]:
        with self.lock:
            ids = {
                t.client_id
                for t in self.tokens.values()
                if t.orcid == orcid and self.token_status(t) == "active"
            }
            return [self.clients[i] for i in sorted(ids) if i in self.clients]

    # -- codes -------------------------------------------------------------------------------
    def issue_code(
        self,
        client_id: str,
        orcid: str,
        scopes: list[str],
        redirect_uri: str,
        nonce: str | None,
        auth_time: float,
    ) -> AuthCode:
        alphabet = string.ascii_letters + string.digits
        with self.lock:
            while True:
                value = "".join(secrets.choice(alphabet) for _ in range(6))
                if value not in self.codes:
                    break
            code = AuthCode(
                code=value,
                client_id=client_id,
                orcid=orcid,
                scopes=sorted(set(scopes)),
                redirect_uri=redirect_uri,
                issued_at=self.now(),
                auth_time=auth_time,
                nonce=nonce,
            )
            self.codes[value] = code
            return code


def _uuid_like() -> str:
    """ORCID's tokens look like UUIDs (``f5af9f51-07e6-4332-8f1a-c0c11c1e3728``)."""
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))

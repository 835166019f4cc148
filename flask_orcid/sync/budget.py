"""One ORCID rate budget for the client id, shared by every process and host that uses it.

ORCID counts requests per client id (24/s, burst 40: API-FACTS §8), so the web processes, the
workers and every host running them must draw from one bucket. ``ORCID_RATE_BUDGET`` says where
that bucket lives:

- ``"database"`` (the default): one row of ``orcid_rate_budget`` in the database the outbox
  lives in. Works across hosts on PostgreSQL and across processes on one host with SQLite. An
  in-memory SQLite database cannot be shared, so there it is the process's own bucket.
- ``"redis://host:port/db"``: a Redis hash, updated by pyrate-limiter's Lua script.
- ``"memory"``: each process keeps its own bucket (only right for a single process).

The token-bucket arithmetic is pyrate-limiter's (:class:`pyrate_limiter.TokenBucket`) whatever
the backend. pyrate-limiter's own SQLite and PostgreSQL buckets do not fit: they keep a
sliding-window log (a row per request) rather than a token bucket, in their own SQLite file or
through their own psycopg pool rather than the host's database, and the PostgreSQL one refuses
a token whenever another process holds its table lock. :class:`DatabaseStateStore` is the part
written here: the bucket's state (one short string) in one row, read and written in one short
transaction that locks the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pyrate_limiter import Decision, Rate, RedisStateStore, StateAlgorithm, StateStore
from sqlalchemy.dialects import postgresql, sqlite

from ..protocol.ratelimit import Limiter, RateLimiter, SharedRateLimiter
from .sql import in_memory_sqlite

try:  # Redis is an optional backend: pip install 'flask-orcid[redis]'
    import redis
except ImportError:  # pragma: no cover - depends on the installation
    redis = None  # type: ignore[assignment]

__all__ = ["DatabaseStateStore", "budget_from_config", "budget_table", "use_wal", "worker_burst"]

TABLE = "orcid_rate_budget"


def budget_table(metadata: sa.MetaData) -> sa.Table:
    """The ``orcid_rate_budget`` table on the host's metadata (defined once)."""
    existing = metadata.tables.get(TABLE)
    if existing is not None:
        return existing
    return sa.Table(
        TABLE, metadata,
        # the bucket's key: the client id
        sa.Column("name", sa.String(64), primary_key=True),
        # the algorithm's state, comma-separated (GCRA: the theoretical arrival time in µs)
        sa.Column("state", sa.String(255), nullable=False),
    )


class DatabaseStateStore(StateStore):
    """A pyrate-limiter state store in one row of the host's database.

    ``check`` locks the row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite a write first,
    which takes the database's write lock), applies the algorithm's step and writes the new
    state, all in one transaction of its own, so no two processes take the same token.
    """

    is_async = False

    def __init__(self, engine: sa.Engine, table: sa.Table, key: str) -> None:
        self.engine = engine
        self.table = table
        self.key = key
        self._created = False

    def _ensure_row(self, conn: sa.Connection, algorithm: StateAlgorithm,
                    rates: list[Rate]) -> None:
        t = self.table
        initial = ",".join(str(v) for v in algorithm.initial(rates))
        dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(self.engine.dialect.name)
        if dialect is not None:  # another process may be making it at the same moment
            conn.execute(dialect.insert(t).values(name=self.key, state=initial)
                         .on_conflict_do_nothing())
        elif conn.execute(sa.select(t.c.name).where(t.c.name == self.key)).first() is None:
            conn.execute(sa.insert(t).values(name=self.key, state=initial))

    def check(self, algorithm: StateAlgorithm, rates: list[Rate], now: int,
              weight: int) -> Decision:
        t = self.table
        sqlite = self.engine.dialect.name == "sqlite"
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                # the budget's state is not worth a disk flush: losing its last milliseconds
                # in a crash costs at most one burst
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            if not self._created:
                self._ensure_row(conn, algorithm, rates)
                self._created = True
            if sqlite:  # take the write lock before reading
                conn.execute(sa.update(t).where(t.c.name == self.key).values(state=t.c.state))
            stored = conn.execute(sa.select(t.c.state).where(t.c.name == self.key)
                                  .with_for_update()).scalar_one()
            state, decision = algorithm.step(rates, algorithm.decode(stored.split(",")), now,
                                             weight)
            if decision.allowed:
                conn.execute(sa.update(t).where(t.c.name == self.key)
                             .values(state=",".join(str(v) for v in state)))
        return decision

    def read(self, algorithm: StateAlgorithm, rates: list[Rate]) -> tuple[float, ...]:
        t = self.table
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(t.c.state).where(t.c.name == self.key)).scalar()
        return algorithm.initial(rates) if stored is None else algorithm.decode(stored.split(","))

    def reset(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(self.table).where(self.table.c.name == self.key))
        self._created = False


def worker_burst(config: Mapping[str, Any]) -> int:
    """ORCID's burst less ``ORCID_WORKER_BURST_MARGIN``: requests that arrive closer together
    than they left us (network and scheduling jitter) would otherwise find ORCID's bucket
    empty and get a 503 even though we kept to the rate."""
    burst = int(config.get("ORCID_RATE_BURST", 40))
    margin = int(config.get("ORCID_WORKER_BURST_MARGIN", 4))
    return max(1, burst - margin) if burst > 2 * margin else burst


def budget_from_config(config: Mapping[str, Any], engine: sa.Engine | None,
                       metadata: sa.MetaData | None = None) -> Limiter:
    """The rate budget ``ORCID_RATE_BUDGET`` asks for (see the module docstring)."""
    rate = float(config.get("ORCID_RATE_LIMIT", 24.0))
    burst = worker_burst(config)
    backend = str(config.get("ORCID_RATE_BUDGET") or "database")
    key = str(config.get("ORCID_CLIENT_ID") or "default")
    local = RateLimiter(rate, burst)
    if backend == "memory":
        return local
    if backend.startswith(("redis://", "rediss://", "unix://")):
        if redis is None:
            raise ValueError("ORCID_RATE_BUDGET names Redis: pip install 'flask-orcid[redis]'")
        client = redis.Redis.from_url(backend, socket_timeout=2.0, socket_connect_timeout=2.0)
        store: StateStore = RedisStateStore(client, f"flask-orcid:rate-budget:{key}")
        return SharedRateLimiter(store, rate, burst, fallback=local)
    if backend != "database":
        raise ValueError(f"ORCID_RATE_BUDGET is {backend!r}: use 'database', 'memory' or a "
                         "redis:// URL")
    if engine is None or in_memory_sqlite(engine):
        return local
    if engine.dialect.name == "sqlite":
        engine = _sqlite_engine(engine)
    table = budget_table(metadata if metadata is not None else sa.MetaData())
    return SharedRateLimiter(DatabaseStateStore(engine, table, key), rate, burst,
                             fallback=local)


def use_wal(engine: sa.Engine) -> None:
    """Put a SQLite file database in WAL mode (nothing for other databases).

    WAL lets readers (the web pages, the worker's claims) go on while someone writes, and a
    commit costs an append instead of rewriting pages. It is a property of the file, so
    switching once serves every connection and every process. Best effort: a database that is
    busy or read-only stays as it is.
    """
    if engine.dialect.name != "sqlite" or in_memory_sqlite(engine):
        return
    try:
        with engine.connect() as conn:
            if str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() != "wal":
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    except sa.exc.DBAPIError:
        pass


def _sqlite_engine(engine: sa.Engine) -> sa.Engine:
    """The budget's own engine on the host's SQLite file (in WAL mode).

    It waits at most a second for the write lock: a web request whose transaction holds it then
    keeps to the rate on its own bucket instead of stalling for SQLite's five seconds.
    """
    use_wal(engine)
    own = sa.create_engine(engine.url, connect_args={"timeout": 1.0})

    @sa.event.listens_for(own, "connect")
    def no_flush(dbapi_connection: Any, _record: Any) -> None:
        # In WAL mode a commit without a flush to disk is still atomic and consistent; the
        # budget's state is not worth the flush (a crash loses at most its last milliseconds)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return own


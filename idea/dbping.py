"""A cheap liveness check of pooled PostgreSQL connections, done at every checkout.

SQLAlchemy's `pool_pre_ping` does the same job through the driver's cursor machinery (switching autocommit
on and off, a cursor with its adapters, `SELECT 1` and its result): measured through gunicorn, about 0.7 ms
of a worker's CPU per request, a fifth of a vote confirmation's. This sends an empty query straight through
libpq (one round trip, no Python above it) and, when the server has gone away (a restart, a failover), raises
`DisconnectionError`: the pool then drops that connection and checks out a fresh one, so the request never
sees the broken one. SQLite connections are not pinged (nothing to lose)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.pool import Pool


def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3; absent on SQLite
    if pgconn is None:
        return
    from psycopg import pq

    try:
        result = pgconn.exec_(b"")
    except Exception as error:  # libpq reports a dead socket as an OperationalError of its own
        raise exc.DisconnectionError(f"PostgreSQL connection lost: {error}") from error
    if pgconn.status != pq.ConnStatus.OK or result.status != pq.ExecStatus.EMPTY_QUERY:
        raise exc.DisconnectionError("PostgreSQL connection lost")


def install() -> None:
    """Ping every pooled connection at checkout (once per process)."""
    if not event.contains(Pool, "checkout", _ping):
        event.listen(Pool, "checkout", _ping)

"""A pooled PostgreSQL connection that the server dropped (a restart, a failover, an idle timeout) is found
at checkout and replaced: the request that gets the next connection never fails."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from idea.extensions import db


def test_a_dropped_connection_is_replaced_at_checkout(app: Any, client: Any) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pings PostgreSQL connections only (SQLite has no server to lose)")
    pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    db.session.commit()
    db.session.remove()  # the connection goes back to the pool
    killer = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with killer.connect() as other:  # the server ends that backend, as a restart would
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.commit()
    killer.dispose()
    # The app's next request checks out the dead connection first: it is replaced, no error shows.
    response = client.get("/cuenta/ingresar")
    assert response.status_code == 200
    assert db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid

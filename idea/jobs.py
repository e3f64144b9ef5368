"""Background jobs: RQ when REDIS_URL is set, inline otherwise; always enqueued after the commit.

Operations call `enqueue()` while they work; the jobs wait in the session and leave only when the
transaction commits, so no worker runs before its rows exist and no mail goes out for a rolled-back change.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from idea.extensions import db

log = logging.getLogger(__name__)

PENDING_KEY = "idea_pending_jobs"
READY_KEY = "idea_ready_jobs"


def _dotted(func: Callable[..., Any]) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def enqueue(func: Callable[..., Any], *args: Any) -> None:
    """Queue `func(*args)` to run once the current transaction commits. Arguments must be plain data."""
    db.session.info.setdefault(PENDING_KEY, []).append((_dotted(func), args))


def enqueue_now(dotted: str, *args: Any) -> None:
    """Hand a job to RQ (or run it inline) right away; used after a commit and by the CLI."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("REDIS_URL"):
        from rq import Callback, Retry

        queue = get_queue(app)
        retries = app.config["JOB_RETRIES"]
        queue.enqueue(
            run_job,
            dotted,
            *args,
            retry=Retry(max=retries, interval=[10, 60, 300][:retries]),
            on_failure=Callback(log_failure),
            failure_ttl=60 * 60 * 24 * 30,
        )
        return
    _run_inline(app, dotted, args)


def _run_inline(app: Flask, dotted: str, args: tuple[Any, ...]) -> None:
    attempts = app.config["JOB_RETRIES"] + 1
    for attempt in range(1, attempts + 1):
        try:
            _call(dotted, args)
            return
        except Exception:
            db.session.rollback()
            if attempt == attempts:
                log.exception("Job %s%r failed after %d attempts", dotted, args, attempts)
                return
            log.warning("Job %s%r failed (attempt %d of %d); retrying", dotted, args, attempt, attempts)


def _call(dotted: str, args: tuple[Any, ...]) -> Any:
    module_name, _, name = dotted.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in name.split("."):
        target = getattr(target, part)
    result = target(*args)
    commit()
    return result


_worker_app: Flask | None = None


def run_job(dotted: str, *args: Any) -> Any:
    """Entry point executed by the RQ worker: runs the job inside an application context."""
    global _worker_app
    if has_app_context():
        return _call(dotted, args)
    if _worker_app is None:
        from idea import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        return _call(dotted, args)


def log_failure(job: Any, connection: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """RQ failure callback: failures are logged here and kept in RQ's failed-job registry."""
    log.error(
        "Job %s (%s) failed: %s", job.id, job.args, exc_value, exc_info=(exc_type, exc_value, traceback)
    )


def get_queue(app: Flask | None = None) -> Any:
    from redis import Redis
    from rq import Queue

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    connection = app.extensions.get("idea_redis")
    if connection is None:
        connection = Redis.from_url(app.config["REDIS_URL"])
        app.extensions["idea_redis"] = connection
    return Queue(app.config["RQ_QUEUE"], connection=connection)


def commit() -> None:
    """Commit the session, then hand over the jobs queued during the transaction."""
    db.session.commit()
    dispatch_ready()


def dispatch_ready() -> None:
    ready = db.session.info.pop(READY_KEY, None) or []
    for dotted, args in ready:
        enqueue_now(dotted, *args)


@event.listens_for(Session, "after_commit")
def _promote_jobs(session: Session) -> None:
    # No SQL may run inside this hook, so the jobs only move to the ready list; `commit()` sends them.
    if session.in_nested_transaction():  # a released SAVEPOINT is not the commit the jobs wait for
        return
    pending = session.info.pop(PENDING_KEY, None)
    if pending:
        session.info.setdefault(READY_KEY, []).extend(pending)


@event.listens_for(Session, "after_soft_rollback")
def _drop_jobs(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(PENDING_KEY, None)

"""Background jobs through a transactional outbox: RQ when REDIS_URL is set, inline otherwise.

`enqueue()` writes the job as an `OutboxJob` row in the same transaction as the change that asks for it, so
a committed change always has its job and a rolled-back one never does. Right after the commit the
dispatcher hands the new rows to RQ (or runs them inline). When Redis is unreachable the rows simply wait:
the next dispatch (the next commit in this process after a short pause, `flask dispatch-jobs`, or
`flask worker`, which looks every few seconds) hands them over. Job arguments are stored as JSON.

Delivery is exactly once in practice: the row's `key` is the RQ job id (RQ refuses a second job with that
id) and the job marks its row done in its own transaction, skipping a row that is already done.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from idea.extensions import db
from idea.models import OutboxJob, utcnow

log = logging.getLogger(__name__)

PENDING_KEY = "idea_pending_jobs"
READY_KEY = "idea_ready_jobs"
# After Redis failed, this process waits this long before trying it again (requests stay fast in an outage).
REDIS_RETRY_SECONDS = 5.0
_BACKLOG_KEY = "idea_jobs_backlog_retry_at"
_BATCH = 200


def _dotted(func: Callable[..., Any]) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def enqueue(func: Callable[..., Any], *args: Any) -> None:
    """Queue `func(*args)` to run once the current transaction commits. Arguments must be JSON data."""
    row = OutboxJob(func=_dotted(func), args=list(args), created_at=utcnow())
    db.session.add(row)
    db.session.info.setdefault(PENDING_KEY, []).append(row)


# --- dispatching -------------------------------------------------------------------------------------


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError, TimeoutError

    return (ConnectionError, TimeoutError, OSError)


def dispatch_pending(ids: list[int] | None = None) -> int:
    """Hand waiting outbox rows (these `ids`, or all) to RQ, or run them inline without REDIS_URL.

    Returns how many were handed over. Commits its own small transaction; call it only right after a
    commit. With Redis down nothing changes and the rows wait for the next dispatch.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    use_redis = bool(app.config.get("REDIS_URL"))
    waiting = sa.select(OutboxJob.id, OutboxJob.key, OutboxJob.func, OutboxJob.args).where(
        OutboxJob.dispatched_at.is_(None), OutboxJob.done_at.is_(None)
    )
    if ids is not None:
        waiting = waiting.where(OutboxJob.id.in_(ids))
    rows = db.session.execute(waiting.order_by(OutboxJob.id).limit(_BATCH)).all()
    db.session.rollback()  # no lock is held while Redis is called
    if not rows:
        return 0
    if not use_redis:
        return _run_rows_inline(app, rows)
    # Hand over first, mark afterwards. Offering a row twice (a parallel dispatcher, or a crash before the
    # mark) makes one RQ job all the same: the row's key is the job id and RQ refuses a duplicate.
    handed: list[int] = []
    try:
        queue = get_queue(app)
        for row in rows:
            _hand_to_rq(app, queue, row.key, row.func, tuple(row.args), outbox_id=row.id)
            handed.append(row.id)
    except _redis_errors() as exc:
        app.extensions[_BACKLOG_KEY] = time.monotonic() + REDIS_RETRY_SECONDS
        log.warning(
            "Redis unreachable (%s): %d job(s) wait in the outbox for the next dispatch "
            "(flask dispatch-jobs, flask worker, or the next commit)",
            exc,
            len(rows) - len(handed),
        )
    if handed and not _mark_dispatched(handed):
        return 0
    if len(handed) == len(rows) and app.extensions.pop(_BACKLOG_KEY, None) is not None:
        log.info("Redis reachable again: handing over the jobs that waited")
        return len(handed) + dispatch_all()
    return len(handed)


def _mark_dispatched(ids: list[int]) -> bool:
    try:
        db.session.execute(
            sa.update(OutboxJob)
            .where(OutboxJob.id.in_(ids), OutboxJob.dispatched_at.is_(None))
            .values(dispatched_at=utcnow())
        )
        db.session.commit()
        return True
    except SQLAlchemyError:
        # Not fatal: the rows are offered again later and RQ refuses the duplicates.
        db.session.rollback()
        log.warning("Could not mark %d outbox job(s) as handed over; they will be offered again", len(ids))
        return False


def _run_rows_inline(app: Flask, rows: list[Any]) -> int:
    # Claim the rows first so that a parallel `flask dispatch-jobs` does not run them too.
    claimed = (
        db.session.execute(
            sa.update(OutboxJob)
            .where(OutboxJob.id.in_([row.id for row in rows]), OutboxJob.dispatched_at.is_(None))
            .values(dispatched_at=utcnow())
            .returning(OutboxJob.id)
        )
        .scalars()
        .all()
    )
    db.session.commit()
    for row in rows:
        if row.id in claimed:
            _run_inline(app, row.id, row.func, tuple(row.args))
    return len(claimed)


def dispatch_all() -> int:
    """Hand over every waiting outbox row, in batches; returns how many."""
    total = 0
    for _batch in range(1000):
        count = dispatch_pending()
        total += count
        if count < _BATCH:
            break
    return total


def _hand_to_rq(
    app: Flask, queue: Any, key: str, dotted: str, args: tuple[Any, ...], *, outbox_id: int
) -> None:
    from rq import Callback, Retry
    from rq.exceptions import DuplicateJobError

    retries = app.config["JOB_RETRIES"]
    try:
        queue.enqueue_call(
            run_job,
            args=(dotted, *args),
            kwargs={"outbox_id": outbox_id},
            job_id=rq_job_id(key),
            unique=True,
            retry=Retry(max=retries, interval=[10, 60, 300][:retries]),
            on_failure=Callback(log_failure),
            failure_ttl=60 * 60 * 24 * 30,
        )
    except DuplicateJobError:
        log.info("Job %s was already handed to RQ", key)


def rq_job_id(key: str) -> str:
    return f"idea-job-{re.sub(r'[^A-Za-z0-9_-]', '', key)}"


def _run_inline(app: Flask, outbox_id: int, dotted: str, args: tuple[Any, ...]) -> None:
    attempts = app.config["JOB_RETRIES"] + 1
    for attempt in range(1, attempts + 1):
        try:
            _execute(outbox_id, dotted, args)
            return
        except Exception:
            if attempt == attempts:
                log.exception("Job %s%r failed after %d attempts", dotted, args, attempts)
                return
            log.warning("Job %s%r failed (attempt %d of %d); retrying", dotted, args, attempt, attempts)


# --- running -----------------------------------------------------------------------------------------


def _execute(outbox_id: int | None, dotted: str, args: tuple[Any, ...]) -> Any:
    """Run one job in one transaction with the mark that it is done; a job already done is skipped."""
    try:
        if outbox_id is not None:
            done = db.session.execute(
                sa.update(OutboxJob)
                .where(OutboxJob.id == outbox_id, OutboxJob.done_at.is_(None))
                .values(done_at=utcnow())
            )
            if done.rowcount == 0:  # type: ignore[attr-defined]
                db.session.rollback()
                log.info("Job %s (outbox %s) already done or gone; skipped", dotted, outbox_id)
                return None
        result = _resolve(dotted)(*args)
        commit()
        return result
    except BaseException:
        db.session.rollback()
        raise


def _resolve(dotted: str) -> Callable[..., Any]:
    module_name, _, name = dotted.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in name.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


_worker_app: Flask | None = None
_worker_pid: int | None = None


def run_job(dotted: str, *args: Any, outbox_id: int | None = None) -> Any:
    """Entry point executed by the RQ worker: runs the job inside an application context."""
    global _worker_app, _worker_pid
    if has_app_context():
        if _worker_pid is not None and _worker_pid != os.getpid():
            # A work horse forked by `flask worker` (whose command runs in an app context): the pool it
            # inherited may hold a connection the parent's dispatch thread is using mid-transaction.
            db.engine.dispose(close=False)
            _worker_pid = os.getpid()
        return _execute(outbox_id, dotted, args)
    if _worker_app is None:
        from idea import create_app

        _worker_app = create_app()
        _worker_pid = os.getpid()
    with _worker_app.app_context():
        if _worker_pid != os.getpid():
            # A forked work horse: the parent's pooled connections are not ours to use (nor to close).
            db.engine.dispose(close=False)
        return _execute(outbox_id, dotted, args)


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
        # Short timeouts: with Redis unreachable a request waits seconds at most, then the job waits in
        # the outbox.
        connection = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )
        app.extensions["idea_redis"] = connection
    return Queue(app.config["RQ_QUEUE"], connection=connection)


# --- committing --------------------------------------------------------------------------------------


def commit() -> None:
    """Commit the session, then hand over the jobs queued during the transaction."""
    db.session.commit()
    dispatch_ready()


def dispatch_ready() -> None:
    """After a commit: hand over its jobs, and the older waiting ones when Redis failed earlier here."""
    ready = db.session.info.pop(READY_KEY, None)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    retry_at = app.extensions.get(_BACKLOG_KEY)
    if retry_at is not None and time.monotonic() < retry_at:
        return  # Redis failed a moment ago: the rows wait rather than every request waiting on Redis
    try:
        if ready:
            dispatch_pending(ready)
        elif retry_at is not None:
            dispatch_all()
    except SQLAlchemyError:
        # The change is committed and its jobs are safe in the outbox: a later dispatch hands them over.
        db.session.rollback()
        log.exception("Could not dispatch the jobs of a committed change; they wait in the outbox")


@event.listens_for(Session, "after_commit")
def _promote_jobs(session: Session) -> None:
    # No SQL may run inside this hook, so only the ids move to the ready list; `commit()` sends them. The
    # committed rows are expired, but their identity (the id) is known without loading them.
    if session.in_nested_transaction():  # a released SAVEPOINT is not the commit the jobs wait for
        return
    pending = session.info.pop(PENDING_KEY, None)
    if pending:
        ids = [sa.inspect(row).identity[0] for row in pending if sa.inspect(row).identity]
        session.info.setdefault(READY_KEY, []).extend(ids)


@event.listens_for(Session, "after_soft_rollback")
def _drop_jobs(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


# --- commands ----------------------------------------------------------------------------------------


def run_worker(
    app: Flask, *, burst: bool = False, dispatch_every: float = 5.0, max_wait: float = 30.0
) -> None:
    """An RQ worker that survives Redis going away (RQ's own worker exits on most Redis errors): its work
    loop is started again after a pause. Beside it a thread hands over the jobs that wait in the outbox
    (committed while Redis was unreachable) every `dispatch_every` seconds."""
    from rq import Worker

    global _worker_app, _worker_pid
    _worker_app, _worker_pid = app, os.getpid()
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_dispatch_loop, args=(app, dispatch_every, stop), daemon=True).start()
    delay = 1.0
    try:
        while True:
            if burst:
                _dispatch_once(app)
            worker = None
            started = time.monotonic()
            try:
                queue = get_queue(app)
                worker = Worker([queue], connection=queue.connection)
                worker.work(burst=burst, with_scheduler=not burst)
            except _redis_errors() as exc:
                log.warning("Redis unreachable (%s); the worker tries again in %.0f s", exc, delay)
            else:
                # RQ notes a SIGTERM/SIGINT here (its own signal handlers replace any of ours).
                if burst or getattr(worker, "_shutdown_requested_date", None) is not None:
                    return
                # RQ's loop quits on a Redis error (and logs it): start it again instead of exiting.
                log.warning("The RQ worker stopped (Redis unreachable?); starting it again in %.0f s", delay)
            delay = 1.0 if time.monotonic() - started > max_wait else min(delay * 2, max_wait)
            time.sleep(delay)
    finally:
        stop.set()


def prune_done(older_than: timedelta) -> int:
    """Delete the outbox rows of jobs done before `older_than` ago; returns how many."""
    result = db.session.execute(sa.delete(OutboxJob).where(OutboxJob.done_at < utcnow() - older_than))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _dispatch_once(app: Flask) -> None:
    with app.app_context():
        try:
            count = dispatch_all()
            if count:
                log.info("Handed %d waiting job(s) to RQ", count)
        except Exception:
            log.exception("Dispatching the waiting jobs failed; trying again later")
        finally:
            db.session.remove()


def _dispatch_loop(app: Flask, every: float, stop: threading.Event) -> None:
    while not stop.is_set():
        _dispatch_once(app)
        stop.wait(every)


def register_cli(app: Flask) -> None:
    @app.cli.command("dispatch-jobs")
    @click.option(
        "--loop",
        "interval",
        type=float,
        default=None,
        help="Keep running, dispatching every this many seconds.",
    )
    @click.option(
        "--keep-days",
        type=int,
        default=30,
        show_default=True,
        help="Delete outbox rows of jobs done more than this many days ago.",
    )
    def dispatch_jobs_command(interval: float | None, keep_days: int) -> None:
        """Hand the jobs waiting in the outbox to RQ (they wait there while Redis is unreachable)."""
        while True:
            count = dispatch_all()
            click.echo(f"Trabajos entregados: {count}")
            pruned = prune_done(timedelta(days=keep_days))
            if pruned:
                click.echo(f"Trabajos terminados borrados: {pruned}")
            if interval is None:
                return
            db.session.remove()
            time.sleep(interval)

    @app.cli.command("worker", with_appcontext=False)
    @click.option("--burst", is_flag=True, help="Quit when the queue is empty.")
    @click.option(
        "--dispatch-every",
        type=float,
        default=5.0,
        show_default=True,
        help="Seconds between hand-overs of jobs that waited in the outbox.",
    )
    def worker_command(burst: bool, dispatch_every: float) -> None:
        """Run the RQ worker (reconnects when Redis goes away; hands over jobs waiting in the outbox)."""
        from flask.cli import ScriptInfo

        app = click.get_current_context().ensure_object(ScriptInfo).load_app()
        if not app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set: without Redis, jobs run inline in the web.")
        run_worker(app, burst=burst, dispatch_every=dispatch_every)

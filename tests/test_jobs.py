"""Jobs: through a real RQ queue when REDIS_URL is set, inline otherwise; queued only after the commit."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from idea import jobs
from idea.extensions import db
from idea.mail import send_email
from idea.models import OutboxJob, User, utcnow
from tests.conftest import run_queued_jobs

CALLS: list[str] = []


def record_call(value: str) -> None:
    CALLS.append(value)


def always_fails(value: str) -> None:
    CALLS.append(value)
    raise RuntimeError("transport down")


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (the CI run sets it)")
def test_confirmation_mail_goes_through_rq_and_a_worker_delivers_it(
    app: Flask, client: Any, outbox: Any
) -> None:
    queue = jobs.get_queue(app)
    client.post(
        "/cuenta/registro",
        data={
            "name": "Rita Redis",
            "email": "rita@example.cl",
            "password": "Un-Molino-Azul-2026",
            "password2": "Un-Molino-Azul-2026",
        },
    )
    assert queue.count == 1, "the confirmation e-mail waits in Redis for a worker"
    job = queue.jobs[0]
    assert job.func_name == "idea.jobs.run_job"
    assert job.args[0] == "idea.mail:deliver_email"
    run_queued_jobs(app)
    assert queue.count == 0
    assert [m.recipients for m in outbox] == [["rita@example.cl"]]
    assert "/cuenta/confirmar/" in outbox[0].body


def test_jobs_wait_for_the_commit(app: Flask) -> None:
    jobs.enqueue(record_call, "after-commit")
    run_queued_jobs(app)
    assert CALLS == []
    jobs.commit()
    run_queued_jobs(app)
    assert CALLS == ["after-commit"]


def test_a_rolled_back_change_sends_nothing(app: Flask, outbox: Any) -> None:
    db.session.add(User(email="x@example.cl", name="X"))
    send_email("x@example.cl", "Asunto", "confirm_email", user=None, link="http://localhost/x")
    db.session.rollback()
    jobs.commit()
    assert len(outbox) == 0


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (the CI run sets it)")
def test_with_redis_a_failing_job_is_kept_for_retry_and_logged(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    jobs.enqueue(always_fails, "boom")
    jobs.commit()
    queue = jobs.get_queue(app)
    run_queued_jobs(app)
    assert CALLS == ["boom"]
    # Not dropped: RQ schedules the retry, and the failure is in the log.
    assert queue.scheduled_job_registry.count == 1
    assert any("failed" in r.getMessage() for r in caplog.records)


def test_without_redis_jobs_run_inline_after_the_commit(
    app: Flask, monkeypatch: pytest.MonkeyPatch, outbox: Any
) -> None:
    """The default set-up (no REDIS_URL): the mail is delivered in-process, right after the commit."""
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    send_email("inline@example.cl", "Asunto", "confirm_email", user=None, link="http://localhost/x")
    assert outbox.messages == []
    jobs.commit()
    assert [m.recipients for m in outbox.messages] == [["inline@example.cl"]]


def test_without_redis_a_failing_job_is_retried_then_logged(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    caplog.set_level(logging.WARNING)
    jobs.enqueue(always_fails, "boom")
    jobs.commit()
    assert CALLS == ["boom"] * (app.config["JOB_RETRIES"] + 1)
    assert any("failed after" in r.getMessage() for r in caplog.records)


def test_releasing_a_savepoint_does_not_release_the_jobs(app: Flask) -> None:
    jobs.enqueue(record_call, "queued-before-savepoint")
    with db.session.begin_nested():
        db.session.add(User(email="sp@example.cl", name="SP"))
    db.session.rollback()
    jobs.commit()
    run_queued_jobs(app)
    assert CALLS == []


def test_dispatch_jobs_hands_over_jobs_left_waiting_and_prunes_old_done_ones(app: Flask) -> None:
    """A job committed while Redis was down (its row never handed over) runs on `flask dispatch-jobs`."""
    db.session.add(OutboxJob(func="tests.test_jobs:record_call", args=["waited"], created_at=utcnow()))
    old = utcnow() - timedelta(days=40)
    db.session.add(OutboxJob(func="tests.test_jobs:record_call", args=["old"], created_at=old,
                             dispatched_at=old, done_at=old))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["dispatch-jobs"])
    assert result.exit_code == 0, result.output
    assert "Trabajos entregados: 1" in result.output
    run_queued_jobs(app)
    assert CALLS == ["waited"]
    db.session.expire_all()
    (row,) = db.session.scalars(sa.select(OutboxJob)).all()
    assert row.args == ["waited"] and row.done_at is not None
    # Handed over once: a second run finds nothing to do.
    assert "Trabajos entregados: 0" in app.test_cli_runner().invoke(args=["dispatch-jobs"]).output
    run_queued_jobs(app)
    assert CALLS == ["waited"]

"""With Redis down, nothing a person does is lost or refused: mail waits in the outbox and goes out once
Redis is back (exactly once); logging in still works; the worker waits for Redis instead of exiting.

These tests start a Redis server of their own (never the shared one), so they can stop and start it.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from rq import SimpleWorker

from convocatorias.models import EstadoPostulacion, Postulacion
from idea.extensions import db
from idea.jobs import dispatch_all, get_queue
from idea.mail import send_email
from idea.models import OutboxJob, Role
from tests.conftest import PASSWORD, login, make_test_app
from tests.convocatorias.test_applicant import profile_form

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None and not os.environ.get("CI"), reason="needs the redis-server binary"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A throwaway redis-server on a free port, without persistence, that a test may stop and restart."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER, "redis-server is missing: .ci/run must install it"
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis(_free_port())
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def outage_app(
    own_redis: OwnRedis, database_url: str, tmp_path: Path, restore_limiter: None
) -> Iterator[Flask]:
    """The app with jobs and rate limits on the test's own Redis."""
    served = make_test_app(
        database_url, tmp_path, REDIS_URL=own_redis.url, RATELIMIT_STORAGE_URI=own_redis.url,
        RQ_QUEUE=f"idea-outage-{secrets.token_hex(4)}",
    )
    yield served
    with served.app_context():
        db.session.remove()
        db.engine.dispose()


def _work(app: Flask) -> None:
    with app.app_context():
        queue = get_queue(app)
        SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)


def _receipts(outbox: Any, email: str) -> list[Any]:
    return [m for m in outbox.to(email) if "folio" in m.subject.lower()]


def test_a_submission_sent_while_redis_is_down_gets_its_receipt_once_redis_is_back(
    outage_app: Flask, own_redis: OwnRedis, make_user: Callable[..., Any],
    make_organizacion: Callable[..., Any], make_convocatoria: Callable[..., Any],
    make_desafio: Callable[..., Any], outbox: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    user = make_user(Role.POSTULANTE, email="durante-la-caida@example.cl")
    make_organizacion(user)
    convocatoria = make_convocatoria()
    desafio = make_desafio(convocatoria)
    client = outage_app.test_client()

    own_redis.stop()
    # Logging in works: the rate limits are counted in memory meanwhile, and the log says so.
    response = client.post("/cuenta/ingresar", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert any("in-memory" in r.getMessage() for r in caplog.records)
    assert client.post("/cuenta/olvide-mi-clave", data={"email": user.email}).status_code == 302

    login(client, user)
    response = client.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                           data=profile_form(desafio))
    assert response.status_code == 302, response.text
    db.session.expire_all()
    (sent,) = db.session.scalars(sa.select(Postulacion)).all()
    assert sent.status == EstadoPostulacion.ENVIADA and sent.folio
    # The receipt (and the reset mail) wait in the outbox, committed with the submission.
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxJob.dispatched_at.is_(None))) >= 1
    assert _receipts(outbox, user.email) == []

    own_redis.start()
    with outage_app.app_context():
        assert dispatch_all() >= 1
        assert dispatch_all() == 0, "a job handed over is not handed over again"
        assert get_queue(outage_app).count >= 1
        # A dispatcher that crashed after RQ took the jobs but before it marked them offers them again:
        # RQ refuses a second job with the same id.
        queued = get_queue(outage_app).count
        db.session.execute(sa.update(OutboxJob).values(dispatched_at=None))
        db.session.commit()
        dispatch_all()
        assert get_queue(outage_app).count == queued
    _work(outage_app)
    _work(outage_app)
    (receipt,) = _receipts(outbox, user.email)
    assert sent.folio in receipt.subject
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxJob.done_at.is_(None))) == 0


def test_a_job_that_runs_twice_acts_once(outage_app: Flask, outbox: Any) -> None:
    with outage_app.app_context():
        send_email("dos-veces@example.cl", "Asunto", "confirm_email", user=None, link="http://localhost/x")
        from idea.jobs import commit

        commit()
        (job,) = get_queue(outage_app).jobs
        get_queue(outage_app).enqueue_job(job)  # the same job twice in the queue (a redelivery)
    _work(outage_app)
    assert len(outbox.to("dos-veces@example.cl")) == 1


def test_the_worker_waits_for_redis_instead_of_exiting(
    own_redis: OwnRedis, outage_app: Flask, database_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "FLASK_APP": "wsgi", "IDEA_ENV": "development", "INSTANCE_PATH": str(tmp_path / "worker"),
        "DATABASE_URL": database_url, "REDIS_URL": own_redis.url, "RQ_QUEUE": outage_app.config["RQ_QUEUE"],
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("MAIL_SERVER", None)  # the worker prints the mail it sends, which this test reads
    log_file = tmp_path / "worker.log"
    with log_file.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "worker", "--dispatch-every", "0.5"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_for(lambda: "Listening on" in log_file.read_text(), what="the worker to start",
                  log_file=log_file)
        own_redis.stop()
        # A mail asked for while Redis is down waits in the outbox.
        with outage_app.app_context():
            send_email("tras-la-caida@example.cl", "Asunto", "confirm_email", user=None, link="http://x/y")
            from idea.jobs import commit

            commit()
        time.sleep(2)
        assert worker.poll() is None, log_file.read_text()
        own_redis.start()
        _wait_for(lambda: "Correo (no enviado" in log_file.read_text(), what="the mail to be sent",
                  log_file=log_file)
        assert worker.poll() is None
        time.sleep(1)
        assert log_file.read_text().count("Correo (no enviado") == 1
        # And it still stops when asked to.
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0, log_file.read_text()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _wait_for(condition: Callable[[], bool], *, what: str, log_file: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{log_file.read_text()}")

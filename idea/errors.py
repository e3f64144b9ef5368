"""Error pages in the user's language for 400, 403, 404, 413, 429 and 500."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from idea.extensions import db

HANDLED = (400, 403, 404, 405, 413, 429, 500)


def register(app: Flask) -> None:
    def render_error(error: HTTPException) -> Any:
        db.session.rollback()
        code = error.code or 500
        if request_ctx.url_adapter is None:
            # A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page with links either.
            return f"{code} {error.name}", code, {"Content-Type": "text/plain; charset=utf-8"}
        if request.accept_mimetypes.best == "application/json":
            return {"error": code}, code
        # An exception may carry a sentence for the visitor saying what to fix (e.g. NulByteRefused).
        detail = getattr(error, "user_message", None)
        return render_template("errors/error.html", code=code, error=error, detail=detail), code

    def render_too_many(error: HTTPException) -> Any:
        response = app.make_response(render_error(error))
        retry_after = _retry_after()
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    for code in HANDLED:
        app.register_error_handler(code, render_too_many if code == 429 else render_error)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        db.session.rollback()
        return render_template("errors/error.html", code=400, error=error, csrf=True), 400


def _retry_after() -> int | None:
    """Seconds until the breached rate limit lets this visitor in again (the limits' own headers are off:
    config RATELIMIT_HEADERS_ENABLED). One read of the limit's window, only on a refusal; None when the
    storage cannot say."""
    from idea.extensions import limiter

    try:
        limit = limiter.current_limit
        if limit is None:
            return None
        return max(1, int(limit.reset_at - time.time()))
    except Exception:  # the storage failed between the hit and now: the page still answers, without it
        return None

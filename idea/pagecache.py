"""Server-side cache of the public pages that are the same for every anonymous visitor.

A page is stored once per (endpoint, URL arguments, chosen query parameters, locale, variant) and per the
VERSION of each scope it depends on ("public": every published call; "votos:<id>": the vote counters of a
call). `bump(scope)` increments a version: every page that depends on it is rendered afresh at its next
request (old entries are never read again and expire). Versions and pages live in Redis when REDIS_URL is
configured (shared by every web process), else in this process's memory (with a size cap). Each process
also keeps the pages it served recently in memory, keyed by the versions, and trusts the versions it read
for PAGECACHE_VERSION_TTL seconds (default 1): a hit usually costs no Redis round trip at all, and a bump
made by another process shows within that second (a bump of this process shows at once).

Only anonymous visitors are served from the cache (no session user, no remember cookie, no flash message
waiting); a logged-in person always gets a freshly rendered page. The only per-visitor content of a public
page is the CSRF token of the language form in the footer: the page is rendered with a placeholder that is
replaced by the visitor's own token when it is served. The stored entry never holds a cookie; a visitor
without a session receives one (for that token) exactly as on an uncached page.

Conditional requests are answered before anything is rendered: the ETag combines the stored page's digest
with a digest of the visitor's CSRF secret (their copy holds their token), and Last-Modified is the time
the stored page was rendered; a match answers 304.

Invalidation: packages call `bump(scope)` (or `bump_on_commit(scope)` inside a transaction), and
`watch_models(scope, *classes)` bumps a scope after any commit that inserted, changed or deleted a row of
these classes. Entries also expire after PAGECACHE_TTL seconds (default 60), which bounds how stale a
time-dependent text ("closes in 2 hours") can get.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, has_app_context, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

ALL = "all"  # every cached page depends on it: `clear()` bumps it
PUBLIC = "public"  # the scope of everything the public pages show about calls and their challenges
DEFAULT_TTL = 60
DEFAULT_VERSION_TTL = 1.0
LOCAL_MAX_ENTRIES = 256
MEMORY_MAX_ENTRIES = 1024
REDIS_RETRY_SECONDS = 5.0
# What the CSRF token is rendered as in a stored page; replaced by the visitor's token when served.
CSRF_PLACEHOLDER = "__idea_pagecache_csrf__"
_PENDING = "idea_pagecache_pending"


def votes_scope(convocatoria_id: int) -> str:
    """The scope of a call's vote counters (bumped by each counted or annulled vote)."""
    return f"votos:{convocatoria_id}"


@dataclass(frozen=True)
class Entry:
    body: str
    etag: str
    last_modified: int  # epoch seconds
    mimetype: str
    stored_at: float

    def to_json(self) -> str:
        return json.dumps([self.body, self.etag, self.last_modified, self.mimetype, self.stored_at])

    @classmethod
    def from_json(cls, raw: bytes | str) -> Entry:
        body, etag, last_modified, mimetype, stored_at = json.loads(raw)
        return cls(body, etag, int(last_modified), mimetype, float(stored_at))


class _Memory:
    """Versions and pages in this process (no Redis): correct for one process, bounded in size."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.lock = threading.Lock()

    def get_versions(self, scopes: list[str]) -> list[int]:
        return [self.versions.get(scope, 0) for scope in scopes]

    def bump(self, scope: str) -> None:
        with self.lock:
            self.versions[scope] = self.versions.get(scope, 0) + 1

    def get(self, key: str) -> Entry | None:
        return None  # the local layer is the store

    def put(self, key: str, entry: Entry, ttl: int) -> None:
        return None


class _Redis:
    def __init__(self, url: str, prefix: str) -> None:
        from redis import Redis

        self.redis = Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=1, health_check_interval=30
        )
        self.prefix = prefix

    def get_versions(self, scopes: list[str]) -> list[int]:
        values = self.redis.mget([f"{self.prefix}v:{scope}" for scope in scopes])
        return [int(v) if v is not None else 0 for v in values]

    def bump(self, scope: str) -> None:
        self.redis.incr(f"{self.prefix}v:{scope}")

    def get(self, key: str) -> Entry | None:
        raw = self.redis.get(f"{self.prefix}p:{key}")
        return Entry.from_json(raw) if raw is not None else None

    def put(self, key: str, entry: Entry, ttl: int) -> None:
        self.redis.set(f"{self.prefix}p:{key}", entry.to_json(), ex=max(1, ttl))


class PageCache:
    """The cache of one app: its store (Redis or memory) and this process's recent pages."""

    def __init__(self, app: Flask) -> None:
        self.enabled = bool(app.config.get("PAGECACHE_ENABLED", True))
        self.ttl = int(app.config.get("PAGECACHE_TTL", DEFAULT_TTL))
        url = app.config.get("REDIS_URL")
        # Test runs sharing a Redis each have their own queue name: reuse it to keep their keys apart.
        prefix = f"idea-pagecache:{app.config.get('RQ_QUEUE', 'idea')}:"
        self.store: _Memory | _Redis = _Redis(url, prefix) if url else _Memory()
        self.local: OrderedDict[str, Entry] = OrderedDict()
        self.local_max = MEMORY_MAX_ENTRIES if isinstance(self.store, _Memory) else LOCAL_MAX_ENTRIES
        self.lock = threading.Lock()
        self.down_until = 0.0
        # How long this process trusts the versions it read from Redis: a bump made by another process
        # shows here at most this late (a bump made by this process shows at once).
        self.version_ttl = float(app.config.get("PAGECACHE_VERSION_TTL", DEFAULT_VERSION_TTL))
        self.known: dict[tuple[str, ...], tuple[float, list[int]]] = {}

    # --- store access, never failing the request ---------------------------------------------------------

    def _guard(self, what: str, func: Callable[[], Any]) -> Any:
        if time.monotonic() < self.down_until:
            raise _Unavailable
        try:
            return func()
        except Exception as exc:  # Redis down or slow: pages are rendered uncached meanwhile
            self.down_until = time.monotonic() + REDIS_RETRY_SECONDS
            log.warning("Page cache unavailable (%s: %s); rendering pages uncached", what, exc)
            raise _Unavailable from exc

    def versions(self, scopes: list[str]) -> list[int]:
        if isinstance(self.store, _Memory) or self.version_ttl <= 0:
            return list(self._guard("versions", lambda: self.store.get_versions(scopes)))
        key = tuple(scopes)
        now = time.monotonic()
        known = self.known.get(key)
        if known is not None and known[0] > now:
            return known[1]
        versions = list(self._guard("versions", lambda: self.store.get_versions(scopes)))
        if len(self.known) > 10_000:
            self.known.clear()
        self.known[key] = (now + self.version_ttl, versions)
        return versions

    def bump(self, scope: str) -> None:
        # Forget only the versions read with this scope: a vote (its call's votes scope) must not make
        # every other page of this process ask Redis again.
        if scope == ALL:
            self.known.clear()
        else:
            self.known = {names: known for names, known in self.known.items() if scope not in names}
        try:
            self._guard("bump", lambda: self.store.bump(scope))
        except _Unavailable:
            # The versions cannot move: drop this process's pages so that at least it does not serve them;
            # the TTL bounds the staleness of the others.
            with self.lock:
                self.local.clear()

    def get(self, key: str) -> Entry | None:
        now = time.time()
        with self.lock:
            entry = self.local.get(key)
            if entry is not None:
                if now - entry.stored_at < self.ttl:
                    self.local.move_to_end(key)
                    return entry
                del self.local[key]
        entry = self._guard("get", lambda: self.store.get(key))
        if entry is not None and now - entry.stored_at < self.ttl:
            self._remember(key, entry)
            return entry
        return None

    def put(self, key: str, entry: Entry) -> None:
        self._remember(key, entry)
        with contextlib.suppress(_Unavailable):
            self._guard("put", lambda: self.store.put(key, entry, self.ttl))

    def _remember(self, key: str, entry: Entry) -> None:
        with self.lock:
            self.local[key] = entry
            self.local.move_to_end(key)
            while len(self.local) > self.local_max:
                self.local.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.local.clear()
        self.bump(ALL)


class _Unavailable(Exception):
    """The shared store did not answer: the page is served without the cache."""


StoreUnavailable = _Unavailable  # what `state_tag` raises, for callers that keep caches of their own


def init_app(app: Flask) -> None:
    app.extensions["idea_pagecache"] = PageCache(app)
    _listen_once()


def _cache(app: Flask | None = None) -> PageCache | None:
    app = app or (current_app._get_current_object() if has_app_context() else None)  # type: ignore[attr-defined]
    return app.extensions.get("idea_pagecache") if app is not None else None


# --- invalidation -------------------------------------------------------------------------------------------


def bump(scope: str) -> None:
    """Make every cached page that depends on `scope` stale, now (call it after the change is committed,
    or use `bump_on_commit`)."""
    cache = _cache()
    if cache is not None:
        cache.bump(scope)


def state_tag(scopes: list[str]) -> str:
    """A short text naming the current versions of `scopes` (and of every page: `clear()`), for a Fill's
    tag. Raises when the store is unreachable (the page is then rendered uncached)."""
    cache = _cache()
    return ".".join(str(v) for v in cache.versions([ALL, *scopes])) if cache is not None else ""


def bump_on_commit(scope: str, session: Session | None = None) -> None:
    """Bump `scope` once the current transaction commits (nothing if it rolls back)."""
    if session is None:
        from idea.extensions import db

        session = db.session()  # type: ignore[assignment]
    assert session is not None
    session.info.setdefault(_PENDING, set()).add(scope)


def clear() -> None:
    """Forget every cached page and version of this app (tests, `flask` maintenance)."""
    cache = _cache()
    if cache is not None:
        cache.clear()


_WATCHED: list[tuple[tuple[type, ...], str | Callable[[Any], Iterable[str]]]] = []
_listening: list[bool] = []


def watch_models(scope: str | Callable[[Any], Iterable[str]], *classes: type) -> None:
    """After a commit that inserted, changed or deleted a row of one of `classes`, bump `scope` (a name,
    or a function of the row giving the scopes)."""
    if (classes, scope) not in _WATCHED:  # each app of a test run registers again: once is enough
        _WATCHED.append((classes, scope))


def _listen_once() -> None:
    if _listening:
        return
    _listening.append(True)

    @event.listens_for(Session, "after_flush")
    def _collect(session: Session, _context: Any) -> None:
        if not _WATCHED:
            return
        changed = [*session.new, *session.deleted]
        changed += [obj for obj in session.dirty if session.is_modified(obj, include_collections=False)]
        if not changed:
            return
        pending = session.info.setdefault(_PENDING, set())
        for obj in changed:
            for classes, scope in _WATCHED:
                if isinstance(obj, classes):
                    pending.update([scope] if isinstance(scope, str) else scope(obj))

    @event.listens_for(Session, "after_commit")
    def _bump(session: Session) -> None:
        scopes = session.info.pop(_PENDING, None)
        if scopes and has_app_context():
            for scope in sorted(scopes):
                bump(scope)

    @event.listens_for(Session, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_PENDING, None)


# --- serving ------------------------------------------------------------------------------------------------


def anonymous_request() -> bool:
    """Whether this request may be answered from (and stored in) the shared cache: a GET or HEAD from a
    visitor who is not logged in and has no message waiting."""
    return request.method in ("GET", "HEAD") and anonymous_visitor()


def anonymous_visitor() -> bool:
    """Whether the visitor is not logged in and has no message waiting (whatever the method)."""
    if "_user_id" in session or "_flashes" in session:
        return False
    if current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        return False
    if "_login_user" not in g:
        # Known anonymous without asking Flask-Login to load a user: its session protection would touch
        # the session (and send it back as a cookie) on every request.
        g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    return not current_user.is_authenticated


def _csrf_digest() -> str:
    secret = session.get("csrf_token", "")
    return hashlib.sha256(f"pagecache:{secret}".encode()).hexdigest()[:12] if secret else "none"


def _key(scopes: list[str], versions: list[int], variant: str, query: tuple[str, ...]) -> str:
    parts = [
        request.host,  # absolute links (og:url) use it: a forged Host never reaches another visitor
        request.endpoint or "",
        json.dumps(sorted((request.view_args or {}).items()), default=str),
        json.dumps([(name, request.args.get(name, "")[:200]) for name in query]),
        str(get_locale() or ""),
        variant,
        json.dumps(list(zip(scopes, versions, strict=True))),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Fill:
    """A small part of a cached page filled in each time it is served (e.g. vote counts, which change
    far more often than the rest): the stored page holds marks, `apply(body, **view_args)` replaces them,
    and `tag(**view_args)` names the current state of what it fills (part of the ETag; cheap)."""

    tag: Callable[..., str]
    apply: Callable[..., str]
    # When what it fills last changed (epoch seconds), for Last-Modified; None: the stored page's time.
    modified: Callable[..., int | None] | None = None


def rendering_shared_page() -> bool:
    """True while a page is rendered to be stored (views with a Fill then write its marks)."""
    return bool(g.get("pagecache_rendering"))


def _last_modified(entry: Entry, fill: Fill | None, kwargs: dict[str, Any]) -> int:
    changed = fill.modified(**kwargs) if fill is not None and fill.modified is not None else None
    return max(entry.last_modified, changed or 0)


def _not_modified(entry: Entry, etag: str, last_modified: int) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return f'"{etag}"' in tags or "*" in tags
    since = request.headers.get("If-Modified-Since")
    if since and _csrf_digest() != "none":
        try:
            return int(parsedate_to_datetime(since).timestamp()) >= last_modified
        except (TypeError, ValueError, OverflowError):
            return False
    return False


def _etag(entry: Entry, fill_tag: str) -> str:
    return f"{entry.etag}{'-' + fill_tag if fill_tag else ''}-{_csrf_digest()}"


def _serve(entry: Entry, hit: bool, fill: Fill | None, fill_tag: str, kwargs: dict[str, Any]) -> Response:
    body = entry.body
    if CSRF_PLACEHOLDER in body:
        from flask_wtf.csrf import generate_csrf

        g.pop("csrf_token", None)
        body = body.replace(CSRF_PLACEHOLDER, generate_csrf())
    if fill is not None:
        body = fill.apply(body, **kwargs)
    response = current_app.response_class(body, mimetype=entry.mimetype)
    _validators(response, entry, fill_tag, _last_modified(entry, fill, kwargs))
    response.headers["X-Page-Cache"] = "hit" if hit else "miss"
    return response


def _validators(response: Response, entry: Entry, fill_tag: str, last_modified: int) -> None:
    response.headers["ETag"] = f'"{_etag(entry, fill_tag)}"'
    response.headers["Last-Modified"] = formatdate(last_modified, usegmt=True)
    # The copy holds the visitor's own CSRF token: browsers may keep it (and revalidate), proxies not.
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")


def cached(
    scopes: Callable[..., list[str]],
    *,
    query: tuple[str, ...] = (),
    variant: Callable[..., str] | None = None,
    fill: Fill | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve the decorated public view from the page cache for anonymous visitors.

    `scopes(**view_args)` names what the page depends on (without reading the database when possible);
    `query` the query parameters that change the page; `variant(**view_args)` any other per-visitor choice
    (e.g. an ordering) that selects among a few versions of the page; `fill` a part filled in at each
    request (see Fill).
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            cache = _cache()
            if cache is None or not cache.enabled or not anonymous_request():
                return view(**kwargs)
            names = [ALL, *scopes(**kwargs)]
            try:
                versions = cache.versions(names)
                key = _key(names, versions, variant(**kwargs) if variant else "", query)
                entry = cache.get(key)
                fill_tag = fill.tag(**kwargs) if fill is not None else ""
            except _Unavailable:
                return view(**kwargs)
            if entry is not None:
                last_modified = _last_modified(entry, fill, kwargs)
                if _not_modified(entry, _etag(entry, fill_tag), last_modified):
                    response = current_app.response_class(status=304)
                    _validators(response, entry, fill_tag, last_modified)
                    response.headers["X-Page-Cache"] = "hit"
                    return response
                return _serve(entry, True, fill, fill_tag, kwargs)
            g.csrf_token = CSRF_PLACEHOLDER  # what csrf_token() gives while the shared page is rendered
            g.pagecache_rendering = True
            try:
                response = make_response(view(**kwargs))
            finally:
                g.pop("csrf_token", None)
                g.pop("pagecache_rendering", None)
            cacheable = (
                response.status_code == 200
                and not response.direct_passthrough
                and "Set-Cookie" not in response.headers
                and "_flashes" not in session
            )
            if not cacheable:
                if response.status_code == 200 and not response.direct_passthrough:
                    return _serve_uncached(response, fill, kwargs)
                return response
            body = response.get_data(as_text=True)
            entry = Entry(
                body=body,
                etag=hashlib.sha256(body.encode()).hexdigest()[:20],
                last_modified=int(time.time()),
                mimetype=response.mimetype or "text/html",
                stored_at=time.time(),
            )
            cache.put(key, entry)
            return _serve(entry, False, fill, fill_tag, kwargs)

        return wrapper

    return decorator


def render_shared(parts: tuple[str, ...], scopes: list[str], render: Callable[[], str]) -> str:
    """The body of a page that is the same for every anonymous visitor in the same situation, rendered once
    per versions of `scopes` and reused, with the visitor's own CSRF token swapped in: for a page that
    answers a POST (which `cached` never serves), e.g. the outcome of a vote confirmation. `parts` tell the
    situations apart (an outcome and an idea); the endpoint, locale and host are added. A logged-in visitor,
    or a store that does not answer, gets `render()` as is."""
    cache = _cache()
    if cache is None or not cache.enabled or not anonymous_visitor():
        return render()
    names = [ALL, *scopes]
    try:
        versions = cache.versions(names)
        # Not `_key`: the URL's arguments (here a one-time link) must not tell the situations apart.
        key = hashlib.sha256(
            "\x1f".join(
                [
                    request.host,
                    request.endpoint or "",
                    json.dumps(list(parts)),
                    str(get_locale() or ""),
                    json.dumps(list(zip(names, versions, strict=True))),
                ]
            ).encode()
        ).hexdigest()
        entry = cache.get(key)
    except _Unavailable:
        return render()
    if entry is None:
        previous = g.pop("csrf_token", None)
        g.csrf_token = CSRF_PLACEHOLDER
        try:
            body = render()
        finally:
            g.pop("csrf_token", None)
            if previous is not None:
                g.csrf_token = previous
        entry = Entry(
            body=body,
            etag=hashlib.sha256(body.encode()).hexdigest()[:20],
            last_modified=int(time.time()),
            mimetype="text/html",
            stored_at=time.time(),
        )
        cache.put(key, entry)
    if CSRF_PLACEHOLDER not in entry.body:
        return entry.body
    from flask_wtf.csrf import generate_csrf

    return entry.body.replace(CSRF_PLACEHOLDER, generate_csrf())


def _serve_uncached(response: Response, fill: Fill | None, kwargs: dict[str, Any]) -> Response:
    # Rendered with the placeholders but not storable: give this visitor their own token all the same.
    body = response.get_data(as_text=True)
    if CSRF_PLACEHOLDER in body:
        from flask_wtf.csrf import generate_csrf

        body = body.replace(CSRF_PLACEHOLDER, generate_csrf())
    if fill is not None:
        body = fill.apply(body, **kwargs)
    response.set_data(body)
    return response

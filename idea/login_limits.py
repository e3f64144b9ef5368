"""Limits on password guessing, kept in the rate-limit storage (Redis in production, so every web process
shares them) and counted with one atomic increment per check.

The log-in form has three counters, each over a fixed window:

- **per address** (5 attempts a minute): one connection cannot guess quickly at anything;
- **per account and address** (5 failures an hour): one connection gets only a few guesses at one account;
- **per account** (20 failures in 15 minutes, from any address): a guess spread over many addresses locks
  the account until that quarter hour ends. While it is locked no password is checked, the right one
  included, and the owner is told by e-mail once per lock, with a link to choose a new password (which
  lifts the lock).

Why the lock also stops a correct password from an address that never failed: an attacker controls fresh
addresses as easily as the owner does, so such an exception would give every new address of a botnet one
more guess and the lock would protect nothing. Instead the lock is short and the owner hears of it, and no
single address can cause it: an address reaches an account's counter only while its own per-account limit
allows (5 an hour, so at most 10 inside any 15-minute window, fewer than the 20 that lock), so locking an
account takes several addresses and one address cannot lock out one account, let alone many. Unknown
e-mails are counted the same way, so neither the answers nor the lock reveal which accounts exist.

The password-change form (for someone already logged in, e.g. on a borrowed or stolen session) allows 5
wrong current passwords per account in 15 minutes.

Each attempt takes its slots *before* the password is checked and gives them back when it was right:
checking first and counting afterwards let parallel requests all pass the check before any was counted.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from flask import current_app
from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter

from idea.extensions import limiter

log = logging.getLogger(__name__)
T = TypeVar("T")

# Defaults; each can be changed in the app config under the same name.
LOGIN_LIMIT_ADDRESS = "5 per minute"
LOGIN_LIMIT_ACCOUNT_ADDRESS = "5 per hour"
LOGIN_LIMIT_ACCOUNT = "20 per 15 minutes"
LOGIN_LIMIT_REAUTH = "5 per 15 minutes"


class TooManyAttempts(Exception):
    """Refused before any password was checked. `scope` is "address" or "account"; `lock_started` is true
    for the first refusal of a new account lock (the one that tells the owner)."""

    def __init__(self, scope: str, *, lock_started: bool = False, retry_after: int = 60) -> None:
        super().__init__(scope)
        self.scope = scope
        self.lock_started = lock_started
        self.retry_after = retry_after


@dataclass
class Attempt:
    """Slots taken for one password check; `succeeded()` gives them back."""

    slots: list[tuple[RateLimitItem, tuple[str, ...]]] = field(default_factory=list)

    def succeeded(self) -> None:
        def give_back(strategy: FixedWindowRateLimiter) -> None:
            for item, identifiers in self.slots:
                strategy.storage.incr(item.key_for(*identifiers), item.get_expiry(), amount=-1)

        _counting(give_back, None)
        self.slots.clear()


def _strategy() -> FixedWindowRateLimiter | None:
    if not limiter.enabled or not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    # `limiter.limiter` is the strategy in use, which knows the storage Flask-Limiter fell back to if any.
    return FixedWindowRateLimiter(limiter.limiter.storage)


def _counting(action: Callable[[FixedWindowRateLimiter], T], disabled: T) -> T:
    """Run `action` on the limit storage; when Redis is unreachable, count in memory as Flask-Limiter does.

    The log-in form carries no Flask-Limiter decorator (its limits are counted here), so Flask-Limiter
    would not notice the outage on its own: switch it to its in-memory fallback ourselves. It checks the
    storage again and switches back on its next decorated request.
    """
    strategy = _strategy()
    if strategy is None:
        return disabled
    try:
        return action(strategy)
    except TooManyAttempts:
        raise
    except Exception as error:  # the storage's own errors (redis, limits) share no base class
        fallback = getattr(limiter, "_fallback_limiter", None)
        if fallback is None or strategy.storage is fallback.storage:
            raise
        log.warning("Rate limit storage unreachable (%s): falling back to in-memory counting", error)
        limiter._storage_dead = True
        return action(FixedWindowRateLimiter(fallback.storage))


def _item(name: str) -> RateLimitItem:
    return parse(current_app.config.get(name) or globals()[name])


def _ids(kind: str, *parts: str) -> tuple[str, ...]:
    return (current_app.config.get("RATELIMIT_KEY_PREFIX") or "idea", kind, *parts)


def _account_key(email: str) -> str:
    # A digest, not the address: the limit storage holds no personal data.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _seconds_left(strategy: FixedWindowRateLimiter, item: RateLimitItem, ids: tuple[str, ...]) -> int:
    return max(1, int(strategy.get_window_stats(item, *ids).reset_time - time.time()))


def start_login(email: str, address: str) -> Attempt:
    """Take the slots for one log-in attempt, or raise TooManyAttempts."""
    return _counting(lambda strategy: _start_login(strategy, email, address), Attempt())


def _start_login(strategy: FixedWindowRateLimiter, email: str, address: str) -> Attempt:
    attempt = Attempt()
    account = _account_key(email)
    per_address, pair, per_account = (
        _item("LOGIN_LIMIT_ADDRESS"),
        _item("LOGIN_LIMIT_ACCOUNT_ADDRESS"),
        _item("LOGIN_LIMIT_ACCOUNT"),
    )
    address_ids = _ids("login-address", address)
    if not strategy.hit(per_address, *address_ids):
        raise TooManyAttempts("address", retry_after=_seconds_left(strategy, per_address, address_ids))
    attempt.slots.append((per_address, address_ids))
    pair_ids = _ids("login-pair", account, address)
    if not strategy.hit(pair, *pair_ids):
        raise TooManyAttempts("address", retry_after=_seconds_left(strategy, pair, pair_ids))
    attempt.slots.append((pair, pair_ids))
    account_ids = _ids("login-account", account)
    if not strategy.hit(per_account, *account_ids):
        left = _seconds_left(strategy, per_account, account_ids)
        # One notice per lock: the first refusal sets a marker that lives as long as the lock.
        notice_key = per_account.key_for(*_ids("login-lock-notice", account))
        first = strategy.storage.incr(notice_key, left) == 1
        raise TooManyAttempts("account", lock_started=first, retry_after=left)
    attempt.slots.append((per_account, account_ids))
    return attempt


def lift_lock(email: str) -> None:
    """End an account's lock (its owner proved the address by choosing a new password from a link)."""
    ids = _ids("login-account", _account_key(email))
    _counting(lambda strategy: strategy.clear(_item("LOGIN_LIMIT_ACCOUNT"), *ids), None)


def start_password_check(user_id: int) -> Attempt:
    """Take the slot for checking a logged-in user's current password, or raise TooManyAttempts."""
    return _counting(lambda strategy: _start_password_check(strategy, user_id), Attempt())


def _start_password_check(strategy: FixedWindowRateLimiter, user_id: int) -> Attempt:
    attempt = Attempt()
    item, ids = _item("LOGIN_LIMIT_REAUTH"), _ids("password-check", str(user_id))
    if not strategy.hit(item, *ids):
        raise TooManyAttempts("account", retry_after=_seconds_left(strategy, item, ids))
    attempt.slots.append((item, ids))
    return attempt

"""Password hashing (Argon2id) and the rules a new password must meet."""

from __future__ import annotations

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

MIN_LENGTH = 12

_hasher = PasswordHasher()

# Local favourites that the international list (zxcvbn's 30,000 most common passwords) does not know.
_SPANISH_COMMON = (
    "contraseña",
    "contrasena",
    "contraseña123",
    "contrasena123",
    "123456789012",
    "1234567890123",
    "holahola1234",
    "chile1234567",
    "chilechile12",
    "santiago1234",
    "teamo1234567",
    "qwertyuiop12",
    "fondoidea2026",
    "fondoidea123",
    "fosis1234567",
    "passwordpassword",
    "administrador",
)

# Words of the site's own name: the first thing an attacker tries against this site's accounts.
SITE_WORDS = ("fondoidea", "fondo", "idea", "fosis", "demo")

_SEPARATORS = re.compile(r"[\W_]+")
_TRAILING = re.compile(r"[\W_\d]+$")


def _squash(text: str) -> str:
    """Lower case without separators: `Fondo-IDEA 2026!` and `fondoidea2026` are the same guess."""
    return _SEPARATORS.sub("", text.lower())


def _core(text: str) -> str:
    """The squashed text without what people append to satisfy rules (`2026`, `!`, `123.`)."""
    return _TRAILING.sub("", _squash(text))


@lru_cache(maxsize=1)
def _common_cores() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    words = (*FREQUENCY_LISTS["passwords"], *_SPANISH_COMMON)
    # Very short cores ("a1" -> "a") would refuse half of all passwords; keep the ones worth a guess.
    return frozenset(core for core in map(_core, words) if len(core) >= 4)


def _is_common(password: str) -> bool:
    core = _core(password)
    return not core or core in _common_cores()


def _is_site_name(password: str) -> bool:
    """Whether the password is the site's name dressed up, e.g. `Fondo-IDEA-2026` or `FOSIS.fosis.1`."""
    rest = _core(password)
    if not any(word in rest for word in SITE_WORDS):
        return False
    for word in SITE_WORDS:
        rest = rest.replace(word, "")
    return len(rest) < 6 or rest in _common_cores()


def password_problems(password: str, *, user_inputs: list[str] | None = None) -> list[str]:
    """Every reason why `password` is not acceptable (Spanish-ready messages); empty when it is."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("The password must have at least %(n)d characters.", n=MIN_LENGTH))
    if _is_common(password):
        problems.append(_("That password is too common; choose another one."))
    elif _is_site_name(password):
        problems.append(_("Do not build the password from the name of the site; choose other words."))
    elif len(password) >= MIN_LENGTH:
        from zxcvbn import zxcvbn

        inputs = [u for u in (user_inputs or []) if u] + list(SITE_WORDS)
        if zxcvbn(password[:64], user_inputs=inputs)["score"] < 2:
            problems.append(_("That password is too easy to guess; try a longer phrase."))
    return problems


def password_problem(password: str, *, user_inputs: list[str] | None = None) -> str | None:
    """The first reason why `password` is not acceptable, or None when it is."""
    problems = password_problems(password, user_inputs=user_inputs)
    return problems[0] if problems else None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not-a-password-of-anyone")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; without a hash (unknown account, invited user) it spends the same time
    checking a dummy hash, so that the answer time does not reveal which accounts exist."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)

"""Password hashing (Argon2id) and the rules a new password must meet."""

from __future__ import annotations

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


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(_SPANISH_COMMON)


def password_problem(password: str, *, user_inputs: list[str] | None = None) -> str | None:
    """Why `password` is not acceptable (a Spanish-ready message), or None when it is."""
    if len(password) < MIN_LENGTH:
        return _("The password must have at least %(n)d characters.", n=MIN_LENGTH)
    lowered = password.lower()
    if lowered in _common_passwords() or lowered.rstrip("0123456789!.*") in _common_passwords():
        return _("That password is too common; choose another one.")
    from zxcvbn import zxcvbn

    if zxcvbn(password[:64], user_inputs=[u for u in (user_inputs or []) if u])["score"] < 2:
        return _("That password is too easy to guess; try a longer phrase.")
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so that timing does not reveal unknown accounts.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)

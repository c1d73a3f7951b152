"""Password rules (length and a list of common passwords, no composition rules) and argon2id hashing."""
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

from portal.core.exceptions import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 128

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying against this keeps the time of a refusal the same whether or not the e-mail exists.
_DUMMY_HASH = _hasher.hash("dummy password for timing equalisation")

# Long passwords seen often in Korea that the general list lacks.
_EXTRA_COMMON = {
    "qwer1234!@#$", "1q2w3e4r5t6y", "1q2w3e4r!@#$", "q1w2e3r4t5y6", "asdf1234!@#$",
    "password1234", "password123!", "passw0rd1234", "adminadmin12", "administrator",
    "qwertyuiop12", "1234567890ab", "abcd1234!@#$", "a123456789!!", "iloveyou1234",
}


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | _EXTRA_COMMON


def check_password_policy(password: str, field: str = "password") -> None:
    """Refuse a password that is too short, too long (checked before hashing) or common."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(field, _l("Use at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise ValidationError(field, _l("Use at most %(n)d characters.", n=MAX_LENGTH))
    if is_common(password):
        raise ValidationError(field, _l("This password is too common. Choose another."))


def is_common(password: str) -> bool:
    """On the list, or a listed word padded with digits and symbols ("iloveyou2026!"), or one repeated character."""
    lowered = password.lower()
    common = _common_passwords()
    if lowered in common or len(set(lowered)) <= 2:
        return True
    core = lowered.strip("0123456789!@#$%^&*()-_=+.,?~ ")
    return len(core) >= 4 and core in common


def hash_password(password: str) -> str:
    if len(password) > MAX_LENGTH:
        raise ValueError("password longer than the maximum")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)

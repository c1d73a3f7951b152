"""Password rules (length and a list of common passwords, no composition rules) and argon2id hashing.

The argon2id parameters come from the configuration (PASSWORD_HASH_TIME_COST, _MEMORY_COST, _PARALLELISM):
the defaults are RFC 9106's low-memory profile, the suite sets the minimum so that a login costs nothing,
and production refuses to start below `PRODUCTION_MINIMUM`. A hash made with other parameters still
verifies (they are stored in the hash) and is made again with the configured ones at the next login.
"""
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from portal.config import Defaults
from portal.core.exceptions import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 128

# OWASP's weakest recommended argon2id set-up (19 MiB, two passes): production refuses anything cheaper.
PRODUCTION_MINIMUM = {"PASSWORD_HASH_TIME_COST": 2, "PASSWORD_HASH_MEMORY_COST": 19 * 1024,
                      "PASSWORD_HASH_PARALLELISM": 1}

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
        raise ValidationError(field, _l("Use at least %(n)s characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise ValidationError(field, _l("Use at most %(n)s characters.", n=MAX_LENGTH))
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


def hashing_parameters(config=None) -> tuple[int, int, int]:
    """(time cost, memory cost in KiB, parallelism) of the configuration, or of the defaults outside an app."""
    if config is None:
        config = current_app.config if has_app_context() else vars(Defaults)
    return (int(config["PASSWORD_HASH_TIME_COST"]), int(config["PASSWORD_HASH_MEMORY_COST"]),
            int(config["PASSWORD_HASH_PARALLELISM"]))


def check_production_hashing(config) -> None:
    """Refuse to run production with parameters cheaper than PRODUCTION_MINIMUM (a test set-up, say)."""
    weak = [name for name, minimum in PRODUCTION_MINIMUM.items() if int(config[name]) < minimum]
    if weak:
        raise RuntimeError(f"{', '.join(weak)} below the production minimum when PORTAL_ENV=production")


@lru_cache(maxsize=8)
def _hasher_with(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def _hasher() -> PasswordHasher:
    return _hasher_with(*hashing_parameters())


@lru_cache(maxsize=8)
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verifying against this keeps the time of a refusal the same whether or not the e-mail exists.
    return hasher.hash("dummy password for timing equalisation")


def hash_password(password: str) -> str:
    if len(password) > MAX_LENGTH:
        raise ValueError("password longer than the maximum")
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the configured ones."""
    return _hasher().check_needs_rehash(password_hash)

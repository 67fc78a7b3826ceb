"""Password hashing with Argon2id (argon2-cffi).

The cost parameters come from the configuration (ARGON2_TIME_COST, ARGON2_MEMORY_COST in KiB,
ARGON2_PARALLELISM), read when a hash is made or checked; the defaults in app/config.py are argon2-cffi's own
(RFC 9106 low-memory profile: t=3, m=65536, p=4). Only the test configuration lowers them. A stored hash made
with other parameters still verifies and is rehashed with the configured ones at the next login.
"""
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_DEFAULT = PasswordHasher()


@functools.cache
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def _hasher() -> PasswordHasher:
    if not has_app_context():
        return _DEFAULT
    config = current_app.config
    return _hasher_for(int(config.get("ARGON2_TIME_COST", _DEFAULT.time_cost)),
                       int(config.get("ARGON2_MEMORY_COST", _DEFAULT.memory_cost)),
                       int(config.get("ARGON2_PARALLELISM", _DEFAULT.parallelism)))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the configured ones."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True

"""Encryption at rest of the most sensitive fields, and keyed hashes to search them.

Keys are Fernet keys (AES-128-CBC + HMAC-SHA256) from the instance configuration: ENCRYPTION_KEYS, a
list whose first key encrypts and all of which decrypt (MultiFernet), so keys can be rotated with
`flask siproc keys rotate`. Without configured keys a key is generated once into instance/encryption_keys.
Exact-match search (DNI, passport) uses an HMAC of the normalized value under a key derived from the
primary key, stored beside the ciphertext.
"""
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

_TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts with its version byte 0x80, base64-encoded
_state = {"fernet": None, "index_key": None}


class UnreadableData(RuntimeError):
    """Encrypted data could not be read with the configured keys."""


def init_app(app):
    keys = app.config.get("ENCRYPTION_KEYS") or _instance_keys(Path(app.instance_path))
    if isinstance(keys, str):
        keys = [k.strip() for k in keys.split(",") if k.strip()]
    configure(keys)


def configure(keys: list[str]):
    """Use these keys (first encrypts, all decrypt)."""
    fernets = [Fernet(k.encode() if isinstance(k, str) else k) for k in keys]
    _state["fernet"] = MultiFernet(fernets)
    primary = keys[0].encode() if isinstance(keys[0], str) else keys[0]
    _state["index_key"] = hashlib.sha256(b"siproc-search-index\0" + primary).digest()


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _instance_keys(instance_path: Path) -> list[str]:
    path = instance_path / "encryption_keys"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(generate_key() + "\n")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def encrypt(value: str) -> str:
    return _state["fernet"].encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(value: str) -> str:
    if not is_encrypted(value):
        return value  # written before encryption was enabled; `flask siproc keys rotate` encrypts it
    try:
        return _state["fernet"].decrypt(value.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise UnreadableData("encrypted data cannot be read with the configured ENCRYPTION_KEYS") from exc


def is_encrypted(value) -> bool:
    return isinstance(value, str) and value.startswith(_TOKEN_PREFIX)


def rotate(value: str) -> str:
    """Re-encrypt under the primary key (plaintext left by older versions gets encrypted)."""
    if not is_encrypted(value):
        return encrypt(value)
    return _state["fernet"].rotate(value.encode("ascii")).decode("ascii")


def search_hash(value: str | None) -> str | None:
    """Keyed hash for exact-match search of an encrypted value (normalized by the caller)."""
    if not value:
        return None
    return hmac.new(_state["index_key"], value.encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedText(TypeDecorator):
    """A text column stored encrypted; reads and writes plain str in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)

"""The audit key: the HMAC key of the chain and of the anchor lines, kept outside the database.

AUDIT_HMAC_KEY when configured, else instance/audit_key, generated (mode 0600) on first use. Every process that
seals or verifies (web, scheduler, `flask siproc audit`) must read the same key; back it up with the instance
folder: without it the chain cannot be verified.
"""
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from flask import current_app

_CACHE = "siproc_audit_key"


def master_key() -> bytes:
    app = current_app._get_current_object()
    cached = app.extensions.get(_CACHE)
    if cached is None:
        configured = app.config.get("AUDIT_HMAC_KEY")
        cached = configured.encode("utf-8") if configured else _instance_key(Path(app.instance_path))
        app.extensions[_CACHE] = cached
    return cached


def chain_key() -> bytes:
    """Key of the row hashes (derived, so the anchor lines and the rows never share a MAC key)."""
    return hmac.new(master_key(), b"siproc audit chain v1", hashlib.sha256).digest()


def anchor_key() -> bytes:
    return hmac.new(master_key(), b"siproc audit anchor v1", hashlib.sha256).digest()


def _instance_key(instance_path: Path) -> bytes:
    key_file = instance_path / "audit_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: read theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    key = key_file.read_text().strip()
    if not key:
        raise RuntimeError(f"{key_file} is empty")
    return key.encode("utf-8")

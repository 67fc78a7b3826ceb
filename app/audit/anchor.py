"""The anchor of the audit chain, outside the database: an append-only file of signed lines.

After every seal one line is appended to AUDIT_ANCHOR_PATH (default instance/audit_anchor.log):

    v1 <TAB> UTC time <TAB> sealed rows <TAB> last sealed id <TAB> its hash <TAB> HMAC of the preceding fields

`verify` compares the table with the latest line: fewer sealed rows, another hash at the anchored id, or an
empty table under a non-empty anchor is tampering that a recomputed chain cannot hide (it has no key, and it
cannot make the anchored hash come back). Copies of the file kept elsewhere (AUDIT_ANCHOR_EMAIL) protect it
against someone who can also write the application's instance folder.
"""
import fcntl
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app

from . import keys

VERSION = "v1"
REBASE = "r1"  # a restored backup: the trail starts again from this line (signed like every other)


@dataclass(frozen=True)
class Anchor:
    at: str
    count: int
    last_id: int
    last_hash: str
    rebase: bool = False

    def line(self) -> str:
        body = "\t".join((REBASE if self.rebase else VERSION, self.at, str(self.count), str(self.last_id),
                          self.last_hash))
        return body + "\t" + _mac(body) + "\n"


def anchor_path() -> Path:
    configured = current_app.config.get("AUDIT_ANCHOR_PATH")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit_anchor.log"


def _mac(body: str) -> str:
    return hmac.new(keys.anchor_key(), body.encode("utf-8"), hashlib.sha256).hexdigest()


def parse(line: str) -> Anchor | None:
    """The anchor of one line, or None when the line is malformed or its MAC does not match."""
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 6 or parts[0] not in (VERSION, REBASE):
        return None
    body, mac = "\t".join(parts[:5]), parts[5]
    if not hmac.compare_digest(_mac(body), mac):
        return None
    try:
        return Anchor(parts[1], int(parts[2]), int(parts[3]), parts[4], rebase=parts[0] == REBASE)
    except ValueError:
        return None


def append(count_since, last_id: int, last_hash: str, now: datetime) -> Anchor | None:
    """Append the anchor of a seal that ended at last_id, under an exclusive lock of the file.

    count_since(previous_last_id) counts the sealed rows with previous_last_id < id <= last_id (all sealed rows
    when previous_last_id is None), so a seal costs a count of what it sealed, never of the whole table. A seal
    that ended before the latest line (another process anchored further meanwhile) writes nothing.
    """
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        previous = _last_valid(fh)
        if previous is not None and previous.last_id >= last_id:
            return None
        count = (previous.count if previous else 0) + count_since(previous.last_id if previous else None)
        anchor = Anchor(now.isoformat(timespec="seconds"), count, last_id, last_hash)
        fh.seek(0, os.SEEK_END)
        fh.write(anchor.line())
        fh.flush()
        os.fsync(fh.fileno())
        return anchor


def rebase(count: int, last_id: int, last_hash: str, now: datetime) -> Anchor:
    """Anchor the table as it is now, whatever the file said before: after restoring a backup the trail goes back
    in time on purpose. Only a holder of the audit key can sign this line, so an insider with database access
    alone still cannot hide a truncation."""
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        anchor = Anchor(now.isoformat(timespec="seconds"), count, last_id, last_hash, rebase=True)
        fh.seek(0, os.SEEK_END)
        fh.write(anchor.line())
        fh.flush()
        os.fsync(fh.fileno())
        return anchor


def _last_valid(fh) -> Anchor | None:
    """The last valid line, reading only the end of the file."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - 8192))
    for line in reversed(fh.read().splitlines()):
        if (anchor := parse(line)) is not None:
            return anchor
    return None


@dataclass
class AnchorReport:
    latest: Anchor | None
    lines: int
    problems: list[str]


def read_all(path=None) -> AnchorReport:
    """Every line checked; the latest valid anchor (highest id since the last rebase line). Problems are Spanish.
    path: another copy of the anchor (e.g. the lines e-mailed to the directorate); default the anchor file."""
    path = Path(path) if path else anchor_path()
    latest, lines, problems = None, 0, []
    if not path.exists():
        return AnchorReport(None, 0, [])
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            lines += 1
            anchor = parse(line)
            if anchor is None:
                problems.append(f"ancla, línea {number}: firma no válida (¿línea modificada?)")
            elif latest is None or anchor.rebase or anchor.last_id > latest.last_id:
                latest = anchor
    return AnchorReport(latest, lines, problems)


def mail_latest(config) -> str | None:
    """E-mail the latest anchor line to AUDIT_ANCHOR_EMAIL (run daily: `flask siproc audit mail-anchor` from
    cron). Returns the line sent, or None when nothing was configured or anchored. Raises OSError/SMTPException."""
    from email.message import EmailMessage

    from ..core import mail as smtp_server

    address, latest = config.get("AUDIT_ANCHOR_EMAIL"), read_all().latest
    if not address or not config.get("MAIL_SERVER") or latest is None:
        return None
    mail = EmailMessage()
    mail["From"], mail["To"] = config["MAIL_FROM"], address
    mail["Subject"] = f"[SIPROC] Ancla de auditoría {latest.at}"
    mail.set_content("Última línea del ancla de auditoría de SIPROC. Consérvela fuera del servidor: "
                     "`flask siproc audit verify --ancla <archivo>` la compara con la base de datos.\n\n"
                     + latest.line())
    with smtp_server.connection(config) as smtp:
        smtp.send_message(mail)
    return latest.line()

"""Database backups: create, verify and restore, with a JSON manifest beside every backup file.

SQLite: the sqlite3 online backup API copies a consistent snapshot of the live database (WAL content included)
while the application keeps running; the copy is one self-contained file (rollback-journal mode).
PostgreSQL: `pg_dump --format=custom --no-owner`, run on a snapshot exported by a REPEATABLE READ transaction
that also counted the rows written in the manifest, so the manifest describes exactly what the dump holds;
`pg_restore --clean --if-exists --no-owner --single-transaction` restores all of it or nothing. The connection
reaches pg_dump/pg_restore through PG* environment variables taken from the SQLAlchemy URL: a password never
appears on a command line.

Files are written under a temporary name in the destination folder (mode 0600) and renamed when complete, so an
interrupted backup never leaves a file that looks finished. The encryption keys are NOT in the backup: without
them the encrypted fields (identity numbers, narratives, notes, workflow state) cannot be read.
Every message raised to the operator (BackupError) is in Spanish.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from ..core import clock

KEY_TABLES = ("cases", "persons", "workflow_instances", "human_tasks", "audit_events", "case_facts")
MANIFEST_FORMAT = "siproc-backup/1"
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
SUFFIXES = {"sqlite": ".db", "postgresql": ".dump"}
DIALECT_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
RESTORE_LOCK_TIMEOUT = "60s"  # a restore waiting on a running application's locks gives up instead of hanging


class BackupError(Exception):
    """A backup, verification or restore could not be done; the message is for the operator (Spanish)."""


@dataclass
class Created:
    path: Path
    manifest_path: Path
    manifest: dict


@dataclass
class Inspection:
    """What a backup file is, and whether it matches its manifest."""

    path: Path
    kind: str  # "sqlite" | "postgresql"
    size: int
    sha256: str
    manifest: dict | None
    problems: list[str] = field(default_factory=list)


@dataclass
class Summary:
    revision: str | None
    counts: dict[str, int | None]


# ------------------------------------------------------------------------------------------------ create
def create_backup(engine: sa.Engine, directory: Path, keys_location: str, uploads_location: str) -> Created:
    """Back up the database behind `engine` into `directory`; returns the backup and manifest paths."""
    dialect = engine.dialect.name
    if dialect not in SUFFIXES:
        raise BackupError(f"no se sabe copiar una base de datos {dialect}")
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackupError(f"no se pudo crear la carpeta de copias {directory}: {exc.strerror}") from exc
    created_at = clock.now()
    final = _free_name(directory, f"siproc-{created_at:%Y%m%d-%H%M%S}", SUFFIXES[dialect])
    tmp = _temp_file(directory)
    try:
        if dialect == "sqlite":
            summary = _sqlite_snapshot(_sqlite_path(engine.url), tmp)
        else:
            summary = _pg_dump(engine, tmp)
        _fsync(tmp)
        digest, size = file_digest(tmp)
        manifest = {
            "format": MANIFEST_FORMAT,
            "file": final.name,
            "created_at": created_at.isoformat(timespec="seconds"),
            "dialect": dialect,
            "database": _database_label(engine.url),
            "alembic_revision": summary.revision,
            "row_counts": summary.counts,
            "sha256": digest,
            "size": size,
            "encryption_keys": {
                "included": False,
                "location": keys_location,
                "note": "Las claves de cifrado NO están en esta copia. Sin ellas no se pueden leer los campos "
                        "cifrados (DNI, pasaporte, relatos, notas, estado de los flujos). Guárdelas aparte, "
                        "en un lugar distinto del de las copias, y restáurelas junto con la copia.",
            },
            "attachments": {
                "included": False,
                "location": uploads_location,
                "note": "Los archivos adjuntos no están en esta copia: cópielos aparte.",
            },
        }
        manifest_tmp = _temp_file(directory)
        try:
            manifest_tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            _fsync(manifest_tmp)
            os.replace(tmp, final)
            manifest_path = manifest_path_for(final)
            os.replace(manifest_tmp, manifest_path)
        finally:
            manifest_tmp.unlink(missing_ok=True)
        _fsync_dir(directory)
    except OSError as exc:
        raise BackupError(f"no se pudo escribir la copia en {directory}: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return Created(final, manifest_path, manifest)


def _sqlite_snapshot(source_path: Path, target: Path) -> Summary:
    if not source_path.is_file():
        raise BackupError(f"no existe la base de datos configurada: {source_path}")
    try:
        source = sqlite3.connect(str(source_path), timeout=30)
        try:
            copy = sqlite3.connect(str(target))
            try:
                source.backup(copy)  # one step: a consistent snapshot, WAL frames included
                copy.execute("PRAGMA journal_mode=DELETE").fetchall()  # the copy stands alone, no -wal file
                return _sqlite_summary(copy)
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite no pudo copiar {source_path}: {exc}") from exc


def _pg_dump(engine: sa.Engine, target: Path) -> Summary:
    pg_dump = _tool("pg_dump")
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            summary = _sa_summary(connection)
            # the exported snapshot stays valid while this transaction is open: pg_dump sees exactly these rows
            _run([pg_dump, "--format=custom", "--no-owner", "--no-password", f"--snapshot={snapshot}",
                  f"--file={target}"], pg_environment(engine.url))
    return summary


# ------------------------------------------------------------------------------------------------ inspect
def manifest_path_for(path: Path) -> Path:
    return path.with_suffix(".json")


def inspect_file(path: Path) -> Inspection:
    """Identify a backup file and compare it with its manifest (problems listed, nothing raised for them)."""
    if not path.is_file():
        raise BackupError(f"no existe el archivo de copia: {path}")
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"no se pudo leer {path}: {exc.strerror}") from exc
    if head.startswith(SQLITE_MAGIC):
        kind = "sqlite"
    elif head.startswith(PGDUMP_MAGIC):
        kind = "postgresql"
    else:
        raise BackupError(f"{path} no es una copia de SIPROC (ni una base SQLite ni un volcado de pg_dump)")
    digest, size = file_digest(path)
    inspection = Inspection(path, kind, size, digest, None)
    manifest_path = manifest_path_for(path)
    if manifest_path.is_file():
        try:
            inspection.manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BackupError(f"el manifiesto {manifest_path} no se puede leer: {exc}") from exc
        if not isinstance(inspection.manifest, dict):
            raise BackupError(f"el manifiesto {manifest_path} no tiene el formato esperado")
        expected = inspection.manifest.get("sha256")
        if expected != digest:
            inspection.problems.append(
                f"la suma sha256 de {path.name} no coincide con la de su manifiesto ({manifest_path.name}): "
                f"el archivo está dañado o fue modificado")
        elif inspection.manifest.get("size") not in (None, size):
            inspection.problems.append(f"el tamaño de {path.name} no coincide con el de su manifiesto")
        if inspection.manifest.get("dialect") not in (None, kind):
            inspection.problems.append(f"el manifiesto dice {inspection.manifest.get('dialect')}, "
                                       f"pero el archivo es de {DIALECT_NAMES[kind]}")
    return inspection


def verify_file(path: Path) -> tuple[Inspection, list[str]]:
    """Checksum against the manifest (a missing manifest is a problem) and the file's own integrity check.
    Returns the inspection and the lines of the checks that passed; problems are in inspection.problems."""
    inspection = inspect_file(path)
    passed = []
    if inspection.manifest is None:
        inspection.problems.append(f"falta el manifiesto {manifest_path_for(path).name}: "
                                   f"no se puede comprobar la suma sha256")
    elif not inspection.problems:
        passed.append(f"sha256 {inspection.sha256}: coincide con el manifiesto")
    if inspection.kind == "sqlite":
        result = sqlite_integrity(path, quick=False)
        if result == "ok":
            passed.append("PRAGMA integrity_check: ok")
        else:
            inspection.problems.append(f"PRAGMA integrity_check: {result}")
    else:
        try:
            entries = pg_list(path)
            passed.append(f"pg_restore --list: {entries} objetos legibles")
        except BackupError as exc:
            inspection.problems.append(str(exc))
    return inspection, passed


def sqlite_integrity(path: Path, quick: bool) -> str:
    """'ok' or the problems SQLite reports, reading the file without changing it."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            pragma = "quick_check" if quick else "integrity_check"
            rows = connection.execute(f"PRAGMA {pragma}").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return f"no se puede leer como base SQLite ({exc})"
    result = "; ".join(str(r[0]) for r in rows[:10])
    return result or "sin respuesta"


def pg_list(path: Path) -> int:
    """Number of entries pg_restore can read from the archive's table of contents (raises BackupError)."""
    output = _run([_tool("pg_restore"), "--list", str(path)], dict(os.environ))
    return sum(1 for line in output.splitlines() if line.strip() and not line.startswith(";"))


# ------------------------------------------------------------------------------------------------ restore
def restore_backup(engine: sa.Engine, inspection: Inspection) -> None:
    """Replace the database behind `engine` with the backup. The caller has checked inspection.problems and
    closed every pooled connection. SQLite: backup API into the configured file (one transaction on the
    target); PostgreSQL: pg_restore --clean in a single transaction."""
    dialect = engine.dialect.name
    if inspection.problems:
        raise BackupError("; ".join(inspection.problems) + "; no se restauró nada")
    if dialect != inspection.kind:
        raise BackupError(f"la copia es de {DIALECT_NAMES.get(inspection.kind, inspection.kind)} y la base "
                          f"configurada es {DIALECT_NAMES.get(dialect, dialect)}; no se restauró nada")
    if dialect == "sqlite":
        _sqlite_restore(inspection.path, _sqlite_path(engine.url))
    else:
        pg_list(inspection.path)  # an unreadable archive is refused before the database is touched
        env = pg_environment(engine.url)
        env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + f" -c lock_timeout={RESTORE_LOCK_TIMEOUT}").strip()
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--no-password", f"--dbname={env['PGDATABASE']}", str(inspection.path)], env)


def _sqlite_restore(backup: Path, target_path: Path) -> None:
    check = sqlite_integrity(backup, quick=True)
    if check != "ok":
        raise BackupError(f"la copia {backup.name} no supera PRAGMA quick_check ({check}); no se restauró nada")
    try:
        target_path.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(str(target_path), timeout=30)
            try:
                source.backup(target)  # all pages in one step: the target is replaced, or left as it was
                if target.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                    target.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite no pudo restaurar en {target_path}: {exc} (¿está la aplicación en marcha? "
                          f"deténgala antes de restaurar)") from exc


# ------------------------------------------------------------------------------------------------ summaries
def database_summary(engine: sa.Engine) -> Summary:
    """Alembic revision and row counts of the key tables of the database behind `engine`."""
    with engine.connect() as connection:
        return _sa_summary(connection)


def _sa_summary(connection) -> Summary:
    tables = set(sa.inspect(connection).get_table_names())
    return _summary(lambda sql: connection.exec_driver_sql(sql).scalar(), tables)


def _sqlite_summary(connection: sqlite3.Connection) -> Summary:
    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return _summary(lambda sql: (connection.execute(sql).fetchone() or (None,))[0], tables)


def _summary(scalar, tables: set[str]) -> Summary:
    revision = scalar("SELECT version_num FROM alembic_version") if "alembic_version" in tables else None
    counts = {name: (scalar(f'SELECT count(*) FROM "{name}"') if name in tables else None) for name in KEY_TABLES}
    return Summary(revision, counts)


def revision_status(revision: str | None, directory: str) -> tuple[str, str | None]:
    """('current' | 'older' | 'unknown', head) of a database revision against the migrations in `directory`."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(directory)
    head = script.get_current_head()
    if revision == head:
        return "current", head
    known = {r.revision for r in script.walk_revisions()}
    if revision is None or revision in known:
        return "older", head
    return "unknown", head


# ------------------------------------------------------------------------------------------------ helpers
def file_digest(path: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def pg_environment(url: sa.URL) -> dict[str, str]:
    """os.environ plus the PG* variables libpq reads, taken from the SQLAlchemy URL (password included: it
    travels in the child's environment, never on its command line)."""
    env = dict(os.environ)
    query = {k: (v[0] if isinstance(v, tuple) else v) for k, v in url.query.items()}
    values = {
        "PGHOST": url.host or query.get("host"),
        "PGPORT": url.port or query.get("port"),
        "PGUSER": url.username or query.get("user"),
        "PGPASSWORD": url.password or query.get("password"),
        "PGDATABASE": url.database or query.get("dbname"),
        "PGSSLMODE": query.get("sslmode"),
        "PGSSLROOTCERT": query.get("sslrootcert"),
        "PGSSLCERT": query.get("sslcert"),
        "PGSSLKEY": query.get("sslkey"),
        "PGCONNECT_TIMEOUT": query.get("connect_timeout"),
        "PGAPPNAME": "siproc-backup",
    }
    env.update({k: str(v) for k, v in values.items() if v not in (None, "")})
    if not env.get("PGDATABASE"):
        raise BackupError("la URL de la base de datos no indica el nombre de la base PostgreSQL")
    return env


def _sqlite_path(url: sa.URL) -> Path:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"la base SQLite configurada ({database or 'en memoria'}) no es un archivo que se "
                          f"pueda copiar o restaurar")
    return Path(database)


def _database_label(url: sa.URL) -> str:
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"no se encontró {name}: instale el cliente de PostgreSQL (paquete postgresql-client, "
                          f"de la misma versión mayor que el servidor o más reciente)")
    return found


def _run(args: list[str], env: dict[str, str]) -> str:
    name = Path(args[0]).name
    try:
        done = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                              check=False)
    except OSError as exc:
        raise BackupError(f"no se pudo ejecutar {name}: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        detail = " ".join(done.stderr.split())[-1500:] or "sin mensaje"
        raise BackupError(f"{name} terminó con error (código {done.returncode}): {detail}")
    return done.stdout


def _free_name(directory: Path, stem: str, suffix: str) -> Path:
    """directory/stem+suffix, or stem-2, stem-3... when a backup of the same second exists."""
    candidate, n = directory / f"{stem}{suffix}", 1
    while candidate.exists() or manifest_path_for(candidate).exists():
        n += 1
        candidate = directory / f"{stem}-{n}{suffix}"
    return candidate


def _temp_file(directory: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=directory, prefix=".siproc-backup-", suffix=".tmp")  # mode 0600
    os.close(fd)
    return Path(name)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

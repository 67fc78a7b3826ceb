"""`flask siproc backup create|verify|restore`: database backups with a manifest (see app/ops/backup.py).

Errors are one Spanish line on stderr with exit code 1, never a traceback. Nothing asks on standard input:
restore needs --yes.
"""
from pathlib import Path

import click
from flask import current_app

from ..extensions import db
from . import backup
from .backup import BackupError


@click.group("backup")
def backup_group():
    """Database backups: create, verify, restore (the encryption keys are NOT inside: keep them apart)."""


def _keys_location() -> str:
    if current_app.config.get("ENCRYPTION_KEYS"):
        return "ENCRYPTION_KEYS de la configuración (instance/config.py o la variable SIPROC_ENCRYPTION_KEYS)"
    return str(Path(current_app.instance_path) / "encryption_keys")


def _uploads_location() -> str:
    return current_app.config.get("UPLOADS_DIR") or str(Path(current_app.instance_path) / "uploads")


def _release_connections() -> None:
    """Close this process's session and pooled connections (a restore must not wait on our own locks)."""
    db.session.remove()
    db.engine.dispose()


def _echo_counts(counts: dict) -> None:
    for table, count in counts.items():
        click.echo(f"  {table:<20} {'(no existe)' if count is None else count}")


@backup_group.command("create")
@click.option("--to", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Carpeta de destino (por defecto instance/backups).")
def create_command(directory):
    """Back up the database (SQLite: online backup API; PostgreSQL: pg_dump) with a JSON manifest beside it."""
    directory = directory or Path(current_app.instance_path) / "backups"
    try:
        created = backup.create_backup(db.engine, directory, _keys_location(), _uploads_location())
    except BackupError as exc:
        raise click.ClickException(f"{exc}; no se creó ninguna copia") from None
    manifest = created.manifest
    click.echo(f"Copia:      {created.path}")
    click.echo(f"Manifiesto: {created.manifest_path}")
    click.echo(f"  {manifest['size']} bytes, sha256 {manifest['sha256']}, revisión {manifest['alembic_revision']}")
    _echo_counts(manifest["row_counts"])
    click.echo(f"AVISO: las claves de cifrado NO están en la copia; guárdelas aparte: {_keys_location()}")
    click.echo(f"AVISO: los archivos adjuntos tampoco; cópielos aparte: {_uploads_location()}")


@backup_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def verify_command(file):
    """Check a backup: sha256 against its manifest, and SQLite integrity_check / pg_restore --list."""
    try:
        inspection, passed = backup.verify_file(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Archivo: {inspection.path} ({backup.DIALECT_NAMES[inspection.kind]}, {inspection.size} bytes)")
    for line in passed:
        click.echo(f"  {line}")
    if inspection.problems:
        for problem in inspection.problems:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException("la copia NO es válida")
    click.echo("Copia verificada.")


@backup_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirma que la base de datos configurada será reemplazada.")
def restore_command(file, yes):
    """Replace the configured database with a backup (needs --yes). Stop the web server and the scheduler first."""
    target = db.engine.url.render_as_string(hide_password=True)
    try:
        inspection = backup.inspect_file(file)
        if inspection.problems:
            raise BackupError("; ".join(inspection.problems) + "; no se restauró nada")
        manifest = inspection.manifest or {}
        click.echo(f"Copia: {inspection.path} ({backup.DIALECT_NAMES[inspection.kind]}, "
                   f"creada {manifest.get('created_at', 'en fecha desconocida')}, "
                   f"revisión {manifest.get('alembic_revision', 'desconocida')})")
        if inspection.manifest is None:
            click.echo("AVISO: la copia no tiene manifiesto; no se pudo comprobar su suma sha256.", err=True)
        if not yes:
            raise BackupError(f"restaurar reemplaza la base de datos configurada ({target}); repita la orden "
                              f"con --yes para confirmarlo. No se cambió nada")
        _release_connections()
        backup.restore_backup(db.engine, inspection)
        _release_connections()
        summary = backup.database_summary(db.engine)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    status, head = backup.revision_status(summary.revision, current_app.extensions["migrate"].directory)
    click.echo(f"Restaurada en {target}.")
    click.echo(f"Revisión de Alembic: {summary.revision} (la del código: {head})")
    _echo_counts(summary.counts)
    if status == "older":
        click.echo("La copia tiene un esquema anterior al del código: ejecute `flask --app app db upgrade`.")
    elif status == "unknown":
        click.echo("AVISO: la revisión de la copia no está entre las migraciones de este código (¿copia de una "
                   "versión más reciente de SIPROC?).", err=True)
    click.echo(f"Recuerde: los campos cifrados solo se leen con las claves de la copia ({_keys_location()}).")
    from ..audit.services import anchor_restored_state

    anchored = anchor_restored_state()
    click.echo(f"Ancla de auditoría: {anchored} filas selladas de la copia anotadas como nuevo punto de partida "
               "(la cadena se verifica con la clave de auditoría de la instancia original).")

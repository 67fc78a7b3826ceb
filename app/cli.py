"""Command-line interface: `flask siproc ...` (set-up, deploy, serve, timer sweep; demo data: devtools)."""
import click
from flask import current_app

from .extensions import db


def register_cli(app):
    app.cli.add_command(siproc)


def _seal():
    from .audit.services import seal_all

    seal_all()


@click.group()
def siproc():
    """SIPROC administration commands."""


@siproc.command("load-reference")
def load_reference_command():
    """Insert missing reference catalogue rows (offices, municipalities, institutions...)."""
    from .reference.services import load_reference

    added = load_reference(current_app.config["REFERENCE_DIR"])
    db.session.commit()
    click.echo("Reference data: " + ", ".join(f"{k} +{v}" for k, v in added.items()))


@siproc.command("create-admin")
@click.argument("username")
@click.option("--full-name", required=True, help="Nombre completo del administrador.")
@click.option("--office", "office_code", required=True, help="Código de su oficina (p. ej. DGPHM).")
@click.option("--email", default=None, help="Correo electrónico (opcional).")
def create_admin_command(username, full_name, office_code, email):
    """Create an active administrator with a generated password, printed once (to be changed at first login)."""
    from flask_babel import gettext as _

    from .auth.admin import create_first_admin
    from .core.errors import DomainError

    try:
        user, password = create_first_admin(username, full_name, office_code, email=email or None)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    _seal()
    click.echo(_("Administrador %(u)s creado en la oficina %(o)s.", u=user.username, o=user.office.code))
    click.echo(_("Contraseña temporal (se muestra una sola vez; deberá cambiarla al entrar): %(p)s", p=password))


@siproc.command("deploy")
def deploy_command():
    """Deploy every diagram in BPMN_DIR; unchanged diagrams keep their version."""
    from .modeler.services import deploy_from_files
    from .workflow.engine import DiagramError

    try:
        results = deploy_from_files(current_app.config["BPMN_DIR"], current_app.config["FORMS_DIR"])
    except DiagramError as exc:
        db.session.rollback()
        for filename, element, message in exc.problems:
            click.echo(f"  {filename}{' [' + element + ']' if element else ''}: {message}", err=True)
        raise click.ClickException("diagramas rechazados; no se desplegó nada") from exc
    db.session.commit()
    _seal()
    for result in results:
        state = "new version" if result.created else "unchanged"
        click.echo(f"Process {result.process_key}: v{result.version} ({state})")


@siproc.command("import-model")
@click.argument("source", type=click.Path(exists=True))
@click.option("--usuario", "username", required=True, help="Responsable de procesos a cuyo nombre se importa.")
def import_model_command(source, username):
    """Import a SpiffArena process-model folder (or its zip) as a draft with its forms and decisions."""
    from pathlib import Path

    from .auth.models import User
    from .core import clock
    from .modeler import spiff_archive
    from .modeler.services import Refused

    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no existe el usuario {username}")
    path = Path(source)
    try:
        if path.is_dir():
            archive = spiff_archive.read_folder(path)
        else:
            with path.open("rb") as handle:
                archive = spiff_archive.read_zip(handle.read(spiff_archive.MAX_COMPRESSED + 1))
        result = spiff_archive.import_archive(archive, user, clock.now())
    except Refused as exc:
        db.session.rollback()
        for problem in exc.problems:
            where = f"{problem.file or ''}{' [' + problem.element + ']' if problem.element else ''}"
            click.echo(f"  {where + ': ' if where else ''}{problem.message}", err=True)
        for note in getattr(exc, "notes", []):
            click.echo(f"  nota: {note}", err=True)
        raise click.ClickException("modelo rechazado; no se importó nada") from exc
    db.session.commit()
    _seal()
    click.echo(f"Borrador de {result.process_key} ({result.filename}); formularios nuevos: "
               f"{', '.join(result.forms_added) or '—'}; tablas de decisión nuevas: "
               f"{', '.join(result.decisions_added) or '—'}")
    for note in result.notes:
        click.echo(f"  nota: {note}")
    for problem in result.problems:
        click.echo(f"  problema del borrador{' [' + problem.element + ']' if problem.element else ''}: "
                   f"{problem.message}")


@siproc.command("export-model")
@click.argument("process_key")
@click.argument("target", type=click.Path(dir_okay=False, writable=True))
@click.option("--version", type=int, default=None, help="Versión publicada (por defecto la última).")
@click.option("--borrador", is_flag=True, help="Exportar el borrador en lugar de una versión publicada.")
def export_model_command(process_key, target, version, borrador):
    """Write a process as a SpiffArena process-model zip (process_model.json, .bpmn, forms, .dmn)."""
    from pathlib import Path

    from .modeler import spiff_archive

    data = spiff_archive.export_zip(process_key, version=version, draft=borrador)
    if data is None:
        raise click.ClickException(f"no existe el proceso {process_key}" + (f" v{version}" if version else ""))
    Path(target).write_bytes(data)
    click.echo(f"{target}: {len(data)} bytes")


@siproc.command("sweep")
def sweep_command():
    """Run one sweep now: due BPMN timers, deadline notices, pending e-mail."""
    from .scheduler.sweep import run_sweep

    result = run_sweep()
    if result.skipped:
        click.echo("another scheduler is sweeping right now; nothing done")
    else:
        click.echo(f"fired {result.fired}, failed {result.failed}, notices {result.notices}, e-mails {result.emails}"
                   f" in {result.seconds * 1000:.1f} ms")


@siproc.command("scheduler")
def scheduler_command():
    """Run the scheduler as its own process (production): sweeps and daily retention, until stopped."""
    from .scheduler.runner import run_blocking

    app = current_app._get_current_object()
    click.echo(f"SIPROC planificador: barrida cada {app.config['SCHEDULER_INTERVAL_SECONDS']} s")
    run_blocking(app)


@siproc.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve_command(host, port):
    """Serve the app with the timer scheduler in the same process (single-machine set-up)."""
    from werkzeug.serving import run_simple

    from .scheduler.runner import start_background

    app = current_app._get_current_object()
    app.config["SCHEDULER_ENABLED"] = True  # this process sweeps: /listo checks that it does
    scheduler = start_background(app)
    click.echo(f"SIPROC en http://{host}:{port}  (planificador cada {app.config['SCHEDULER_INTERVAL_SECONDS']} s)")
    if app.config["SESSION_COOKIE_SECURE"] and host not in ("127.0.0.1", "localhost", "::1"):
        # Browsers keep Secure cookies over plain http only for 127.0.0.1/localhost: elsewhere, serve behind HTTPS.
        click.echo("AVISO: las cookies de sesión son Secure; desde otra máquina, acceda por HTTPS (proxy inverso) "
                   "o no podrá iniciar sesión.", err=True)
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        scheduler.shutdown(wait=False)


@siproc.group("audit")
def audit_group():
    """The audit trail: seal pending rows, verify the hash chain."""


@audit_group.command("seal")
def audit_seal_command():
    """Chain every audit row not yet sealed."""
    from .audit.services import seal_pending

    total = 0
    while (sealed := seal_pending()) > 0:
        total += sealed
    click.echo(f"sealed {total} audit rows")


@audit_group.command("verify")
@click.option("--ancla", "anchor_copy", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Otra copia del ancla (p. ej. las líneas recibidas por correo) en lugar de AUDIT_ANCHOR_PATH.")
def audit_verify_command(anchor_copy):
    """Check the whole chain and compare it with the latest anchor; exits with status 1 when a row was edited,
    deleted or inserted, the tail was cut, the table emptied, the chain recomputed or the anchor edited."""
    from flask_babel import gettext as _

    from .audit.services import verify_chain

    report = verify_chain(anchor_copy=anchor_copy)
    click.echo(f"checked {report.checked} sealed rows; {report.unsealed} not yet sealed")
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    if not report.ok:
        click.echo(_("La cadena de auditoría está alterada: %(n)d problemas.", n=len(report.problems)), err=True)
        raise SystemExit(1)
    click.echo(_("Cadena íntegra y conforme al ancla."))


@audit_group.command("mail-anchor")
def audit_mail_anchor_command():
    """E-mail the latest anchor line to AUDIT_ANCHOR_EMAIL (schedule it daily, e.g. from cron)."""
    import smtplib

    from flask import current_app
    from flask_babel import gettext as _

    from .audit.anchor import mail_latest

    try:
        line = mail_latest(current_app.config)
    except (OSError, smtplib.SMTPException) as exc:
        raise click.ClickException(_("No se pudo enviar el ancla: %(e)s", e=exc)) from exc
    if line is None:
        click.echo(_("Nada enviado: falta AUDIT_ANCHOR_EMAIL, MAIL_SERVER o un ancla."))
    else:
        click.echo(_("Ancla enviada: %(l)s", l=line.strip()))


@siproc.group("keys")
def keys_group():
    """Encryption keys of the sensitive fields."""


@keys_group.command("generate")
def keys_generate_command():
    """Print a new key; put it FIRST in ENCRYPTION_KEYS (keep the old ones after it), then run `rotate`."""
    from .core.crypto import generate_key

    click.echo(generate_key())


@keys_group.command("rotate")
@click.option("--plaintext-only", is_flag=True, help="Only encrypt values still stored in plaintext.")
def keys_rotate_command(plaintext_only):
    """Re-encrypt every sensitive field under the first key and recompute the search hashes."""
    from .audit.services import record, seal_pending
    from .core.keys import rotate_all

    changed = rotate_all(plaintext_only=plaintext_only)
    if any(changed.values()):
        record("keys_rotated", details={k: v for k, v in changed.items() if v})
    db.session.commit()
    seal_pending()
    for column, count in changed.items():
        if count:
            click.echo(f"  {column}: {count}")
    click.echo("keys: done" + (" (plaintext only)" if plaintext_only else ""))


@siproc.group("stats")
def stats_group():
    """Statistics maintenance."""


@stats_group.command("rebuild")
def stats_rebuild_command():
    """Recompute every case_facts row from the case file (the dashboard's source); safe to run any time."""
    from .stats.facts import rebuild

    written = rebuild(db.session.connection())
    db.session.commit()
    click.echo(f"case_facts: {written} filas recalculadas.")


@siproc.command("check")
def check_command():
    """Consistency check: inbox and timer rows against each workflow's stored state; statistics rows against
    the case file. Read-only. Exit code 1 when anything differs."""
    from .stats.facts import differences
    from .workflow.consistency import check_instances

    found = [str(d) for d in check_instances()] + differences()
    for line in found:
        click.echo(line)
    click.echo(f"Comprobación: {len(found)} diferencia(s).")
    if found:
        raise SystemExit(1)


from .ops.cli import backup_group  # noqa: E402

siproc.add_command(backup_group)

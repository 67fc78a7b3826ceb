"""Web glue shared by every page: home, the one act-commit-or-explain path, error pages, filters, headers."""
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from . import clock
from .access import AUTHENTICATED, rule
from .errors import Conflict, DomainError

bp = Blueprint("web", __name__)

MESSAGES = {
    400: _l("La solicitud no es válida."),
    401: _l("Inicie sesión para continuar."),
    403: _l("No tiene permiso para ver esta página o realizar esta acción."),
    404: _l("La página o el registro no existe."),
    405: _l("Método no permitido."),
    409: _l("Otra persona modificó este registro al mismo tiempo. Vuelva a cargar la página."),
    413: _l("El envío es demasiado grande."),
    422: _l("Los datos enviados no son válidos."),
    429: _l("Demasiados intentos. Espere un momento."),
    500: _l("Ocurrió un error interno. No se guardó nada; el equipo técnico fue notificado."),
    503: _l("El servicio no está disponible en este momento."),
}


@bp.route("/")
@rule(AUTHENTICATED)
def home():
    return redirect(url_for("tasks.inbox"))


def act(action, done, refused=None, form=None, note=None, flashed=True):
    """The one way a view changes data: `action()` (services that flush) → commit → `done(result)`.

    A DomainError (a lost optimistic-lock race becomes a Conflict) rolls back — or commits what the refusal
    keeps, such as a failed check that counts for a lockout — and is explained: its field errors join `form`,
    its message (plus `note`) is flashed (unless `flashed` is False: a JSON answer carries it) and `refused(exc)`
    answers. Without `refused`, and for every 403, the
    error page answers with the message (the global DomainError handler).
    """
    try:
        result = action()
        try:
            db.session.flush()
        except StaleDataError as exc:
            raise Conflict(_("Otra persona modificó este registro al mismo tiempo. Vuelva a cargar la página para "
                             "ver su estado actual.")) from exc
        db.session.commit()
    except DomainError as exc:
        db.session.commit() if exc.keeps_changes else db.session.rollback()
        if refused is None or exc.status_code == 403:
            raise
        if flashed:
            explain(exc, form, note)
        return refused(exc)
    return done(result)


def explain(exc: DomainError, form=None, note=None):
    """Show a refusal: field errors on their fields of `form` (WTForms), the message flashed."""
    show_field_errors(form, exc)
    flash(f"{exc.message} {note}" if note else exc.message, exc.flash_category)


def show_field_errors(form, exc: DomainError) -> None:
    for name, message in exc.field_errors.items():
        field = form[name] if form is not None and name in form else None
        if field is not None:
            field.errors = [*field.errors, message]


def init_app(app):
    app.register_blueprint(bp)
    app.before_request(_refuse_nul_characters)
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["local_date"] = local_date
    app.context_processor(lambda: {"now": clock.now})
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(OperationalError, _database_busy)
    app.register_error_handler(StaleDataError, _stale)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _tz():
    """The user's office time zone, looked up once per request."""
    if "tz" not in g:
        office = getattr(current_user, "office", None) if current_user and current_user.is_authenticated else None
        g.tz = ZoneInfo(office.timezone if office else "America/Tegucigalpa")
    return g.tz


def local_time(value, fmt="%d/%m/%Y %H:%M"):
    """A UTC datetime shown in the user's office time zone."""
    if value is None:
        return "—"
    return clock.as_utc(value).astimezone(_tz()).strftime(fmt)


def local_date(value):
    if value is None:
        return "—"
    if hasattr(value, "hour"):
        return local_time(value, "%d/%m/%Y")
    return value.strftime("%d/%m/%Y")


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    if request.endpoint != "static":
        headers.setdefault("Cache-Control", "no-store")
    # HSTS only over HTTPS (request.is_secure honours X-Forwarded-Proto from TRUSTED_PROXIES only), or when the
    # installation says every client uses HTTPS: never on the plain http of `make run`.
    from flask import current_app

    if request.is_secure or current_app.config.get("HSTS_ALWAYS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _page(code, message=None):
    return render_template("errors/error.html", code=code, message=message or MESSAGES.get(code, "Error")), code


def _csrf_error(exc):
    db.session.rollback()
    return _page(400, _("El formulario caducó o no es válido (protección CSRF). Vuelva a cargar la página "
                        "e inténtelo de nuevo. No se guardó nada."))


def _domain_error(exc):
    db.session.rollback()
    return _page(exc.status_code, exc.message)


BUSY_SIGNS = ("database is locked", "database is busy", "could not serialize", "deadlock detected",
              "lock not available")


def _refuse_nul_characters():
    """A NUL character is never valid text (PostgreSQL cannot even store it): refuse the request, save nothing."""
    values = [request.path]
    if request.method in ("POST", "PUT", "PATCH") or request.args:
        values += [*request.args.values(), *request.form.values(), *request.form.keys(), *request.args.keys()]
    if any("\x00" in value for value in values):
        return _page(400, _("La solicitud contiene caracteres no permitidos. No se guardó nada."))
    return None


def _stale(_exc):
    """A row changed by someone else between our read and our write (optimistic lock): nothing was saved."""
    db.session.rollback()
    return _page(409, _("Otra persona modificó este registro al mismo tiempo. Vuelva a cargar la página para ver "
                        "su estado actual. No se guardó nada."))


def _database_busy(exc):
    """Lock contention gets a 'try again'; any other database error is an unexpected error."""
    if not any(sign in str(exc).lower() for sign in BUSY_SIGNS):
        return _unexpected(exc)
    db.session.rollback()
    return _page(409, _("La base de datos está ocupada con otra operación. Inténtelo de nuevo. No se guardó nada."))


def _http_error(exc):
    if exc.code is None or exc.code < 400:
        return exc
    own_description = exc.description and exc.description != type(exc).description
    return _page(exc.code, exc.description if own_description else MESSAGES.get(exc.code, MESSAGES[400]))


def _unexpected(exc):
    from flask import current_app

    db.session.rollback()
    if current_app.testing and current_app.config.get("PROPAGATE_UNEXPECTED", True):
        raise exc
    current_app.logger.exception("unexpected error")
    return _page(500)

"""Administrator pages for user accounts: list, create, change access, reset password or second factor."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.access import rule
from ..core.errors import DomainError
from ..core.pagination import paginate
from ..core.web import act
from ..extensions import db
from . import admin, bp, roles, sessions
from .forms import UserAccessForm, UserCreateForm, set_access_choices
from .models import User

PAGE_SIZE = 50
LIST_ARGS = ("oficina", "rol", "estado")


@bp.route("/admin/usuarios/")
@rule("is_admin")
def users():
    filters, problems = _filters(request.args)
    page = paginate(admin.users_query(**filters), request.args.get("pagina"), PAGE_SIZE)
    args = {name: request.args[name] for name in LIST_ARGS if request.args.get(name)}
    return render_template("users/index.html", page=page, args=args, problems=problems, roles=roles.ROLES,
                           offices=admin.all_offices()), (422 if problems else 200)


@bp.route("/admin/usuarios/nuevo", methods=["GET", "POST"])
@rule("is_admin")
def user_new():
    form = _with_choices(UserCreateForm())
    if not form.is_submitted():
        return _form_page(form)

    def create():
        _require_valid(form)
        return admin.create_account({**form.data, "office_id": _int(form.office_id.data)})

    return act(create, lambda made: _password_page(*made, created=True),
               refused=lambda exc: _form_page(form, status=422), form=form)


@bp.route("/admin/usuarios/<int:user_id>/editar", methods=["GET", "POST"])
@rule("is_admin")
def user_edit(user_id):
    user = _user(user_id)
    form = _with_choices(UserAccessForm(data=_access_values(user)), user)
    if not form.is_submitted():
        return _form_page(form, user)

    def update():
        _require_valid(form)
        return admin.update_access(user, current_user._get_current_object(), form.role.data,
                                   _int(form.office_id.data), form.active.data)

    return act(update, lambda changed: _saved(user, changed), refused=lambda exc: _form_page(form, user, 422),
               form=form)


@bp.route("/admin/usuarios/<int:user_id>/restablecer-contrasena", methods=["POST"])
@rule("is_admin")
def user_reset_password(user_id):
    user = _user(user_id)
    return act(lambda: admin.reset_password(user, current_user._get_current_object()),
               lambda password: _password_page(user, password, created=False), refused=lambda exc: _back(user))


@bp.route("/admin/usuarios/<int:user_id>/quitar-segundo-factor", methods=["POST"])
@rule("is_admin")
def user_reset_totp(user_id):
    user = _user(user_id)
    message = _("Se quitó el segundo factor de %(u)s: entrará solo con su contraseña y podrá activarlo de nuevo.",
                u=user.username)
    return act(lambda: admin.remove_second_factor(user), lambda _r: _back(user, message),
               refused=lambda exc: _back(user))


@bp.route("/admin/usuarios/<int:user_id>/cerrar-sesiones", methods=["POST"])
@rule("is_admin")
def user_end_sessions(user_id):
    user = _user(user_id)
    return act(lambda: admin.end_sessions(user, current_user._get_current_object(), g.get("user_session")),
               lambda count: _back(user, _("Se cerraron %(n)d sesiones abiertas de %(u)s.", n=count, u=user.username)
                                   if count else _("%(u)s no tenía sesiones abiertas.", u=user.username),
                                   "success" if count else "info"))


def _require_valid(form):
    if not form.validate():
        raise DomainError(_("Revise los campos marcados. No se guardó nada."))


def _saved(user, changed):
    flash(_("Se guardaron los cambios de %(u)s: %(what)s.", u=user.username, what=", ".join(changed))
          if changed else _("No había cambios que guardar."), "success" if changed else "info")
    return redirect(url_for(".users"))


def _back(user, message=None, category="success"):
    if message:
        flash(message, category)
    return redirect(url_for(".user_edit", user_id=user.id))


def _user(user_id) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, _("El usuario no existe."))
    return user


def _access_values(user) -> dict:
    """The edit form's initial values (a submitted form takes its own)."""
    return {"role": user.role, "office_id": str(user.office_id), "active": user.is_active_user}


def _with_choices(form, user=None):
    offices = admin.active_offices()
    if user is not None and user.office not in offices:
        offices = [user.office, *offices]  # a deactivated office stays shown for the users still in it
    set_access_choices(form, [(code, role.label) for code, role in roles.ROLES.items()],
                       [(str(o.id), f"{o.code} — {o.name}") for o in offices])
    return form


def _filters(args):
    """Query filters from the URL; invalid values are reported and ignored, never a 500."""
    filters, problems = {}, []
    if args.get("oficina"):
        office_id = _int(args["oficina"])
        if office_id is None:
            problems.append(_("Oficina no válida."))
        filters["office_id"] = office_id if office_id is not None else -1
    if args.get("rol"):
        if args["rol"] in roles.ROLES:
            filters["role"] = args["rol"]
        else:
            problems.append(_("Rol no válido."))
    if args.get("estado"):
        if args["estado"] in admin.STATES:
            filters["active"] = admin.STATES[args["estado"]]
        else:
            problems.append(_("Estado no válido."))
    return filters, problems


def _int(value):
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else None


def _form_page(form, user=None, status=200):
    open_sessions = sessions.open_count(user) if user is not None else None
    return render_template("users/form.html", form=form, user=user, open_sessions=open_sessions), status


def _password_page(user, password, created):
    """The only time the password is shown: rendered in the response (never stored, never flashed)."""
    return render_template("users/password.html", user=user, password=password, created=created)

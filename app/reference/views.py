"""Administrator pages for the reference catalogues: list, add, edit, deactivate and reactivate rows."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import roles
from ..core.errors import DomainError
from ..extensions import db
from . import admin
from .forms import catalogue_form, form_values

bp = Blueprint("catalogs", __name__, template_folder="templates", url_prefix="/admin/catalogos")

PAGE_SIZE = 50
LIST_ARGS = ("buscar", "estado", "pagina")


def is_admin(user) -> bool:
    return user.role == roles.ADMIN.code


# Merged into app/auth/policy.py's ENDPOINT_RULES: only administrators maintain catalogues.
ENDPOINT_RULES = {
    "catalogs.index": is_admin,
    "catalogs.rows": is_admin,
    "catalogs.new": is_admin,
    "catalogs.edit": is_admin,
    "catalogs.deactivate": is_admin,
    "catalogs.reactivate": is_admin,
}


@bp.route("/")
def index():
    return render_template("catalogs/index.html", summaries=admin.summaries())


@bp.route("/<slug>/")
def rows(slug):
    catalogue = _catalogue(slug)
    found = admin.list_rows(catalogue, request.args.get("buscar"), request.args.get("estado"))
    page = admin.page_of(found, request.args.get("pagina"), PAGE_SIZE)
    args = _list_args(request.args)
    filters = {name: value for name, value in args.items() if name != "pagina"}
    return render_template("catalogs/rows.html", catalogue=catalogue, page=page, args=args, filters=filters)


@bp.route("/<slug>/nuevo", methods=["GET", "POST"])
def new(slug):
    catalogue = _catalogue(slug)
    form = catalogue_form(catalogue, creating=True)
    if not form.is_submitted():
        return _form_page(catalogue, form)
    return _save(catalogue, form, None, lambda values: admin.create_row(catalogue, values))


@bp.route("/<slug>/<key>/editar", methods=["GET", "POST"])
def edit(slug, key):
    catalogue = _catalogue(slug)
    row = _row(catalogue, key)
    form = catalogue_form(catalogue, creating=False, obj=row)
    if not form.is_submitted():
        return _form_page(catalogue, form, row)
    return _save(catalogue, form, row, lambda values: admin.update_row(catalogue, row, values))


@bp.route("/<slug>/<key>/desactivar", methods=["POST"])
def deactivate(slug, key):
    catalogue = _catalogue(slug)
    row = admin.set_active(_row(catalogue, key), False)
    db.session.commit()
    flash(_("Se desactivó «%(row)s»: ya no se ofrece en los formularios; los casos que lo usan no cambian.",
            row=catalogue.label(row)), "success")
    return redirect(url_for(".rows", slug=slug, **_list_args(request.form)))


@bp.route("/<slug>/<key>/reactivar", methods=["POST"])
def reactivate(slug, key):
    catalogue = _catalogue(slug)
    row = admin.set_active(_row(catalogue, key), True)
    db.session.commit()
    flash(_("Se reactivó «%(row)s»: vuelve a ofrecerse en los formularios.", row=catalogue.label(row)), "success")
    return redirect(url_for(".rows", slug=slug, **_list_args(request.form)))


def _catalogue(slug) -> admin.Catalogue:
    catalogue = admin.CATALOGUES.get(slug)
    if catalogue is None:
        abort(404, _("El catálogo «%(slug)s» no existe.", slug=slug))
    return catalogue


def _row(catalogue, key):
    row = admin.find_row(catalogue, key)
    if row is None:
        abort(404, _("No existe el código «%(key)s» en %(catalogue)s.", key=key, catalogue=catalogue.title))
    return row


def _save(catalogue, form, row, action):
    """Validate, run the service, commit once; refused input re-renders the form with 422 and saves nothing."""
    try:
        if not form.validate():
            raise DomainError(_("Revise los campos marcados. No se guardó nada."))
        saved = action(form_values(form))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        for name, message in exc.field_errors.items():
            if name in form:
                form[name].errors = [*form[name].errors, message]
        flash(exc.message, "danger")
        return _form_page(catalogue, form, row, status=422)
    label = catalogue.label(saved)
    flash(_("Se guardaron los cambios de «%(row)s».", row=label) if row else _("Se agregó «%(row)s».", row=label),
          "success")
    return redirect(url_for(".rows", slug=catalogue.slug, buscar=catalogue.key_of(saved)))


def _form_page(catalogue, form, row=None, status=200):
    return render_template("catalogs/form.html", catalogue=catalogue, form=form, row=row), status


def _list_args(source) -> dict:
    """The list's filters and page, carried through links and the deactivate/reactivate forms."""
    return {name: source[name] for name in LIST_ARGS if source.get(name)}

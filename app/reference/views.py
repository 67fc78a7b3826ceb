"""Administrator pages for the reference catalogues: list, add, edit, deactivate and reactivate rows."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..core.access import rule
from ..core.errors import DomainError
from ..core.web import act
from . import admin, bp
from .forms import catalogue_form, form_values

PAGE_SIZE = 50
LIST_ARGS = ("buscar", "estado", "pagina")


@bp.route("/admin/catalogos/")
@rule("is_admin")
def index():
    return render_template("catalogs/index.html", summaries=admin.summaries())


@bp.route("/admin/catalogos/<slug>/")
@rule("is_admin")
def rows(slug):
    catalogue = _catalogue(slug)
    found = admin.list_rows(catalogue, request.args.get("buscar"), request.args.get("estado"))
    page = admin.page_of(found, request.args.get("pagina"), PAGE_SIZE)
    args = _list_args(request.args)
    filters = {name: value for name, value in args.items() if name != "pagina"}
    return render_template("catalogs/rows.html", catalogue=catalogue, page=page, args=args, filters=filters)


@bp.route("/admin/catalogos/<slug>/nuevo", methods=["GET", "POST"])
@rule("is_admin")
def new(slug):
    catalogue = _catalogue(slug)
    form = catalogue_form(catalogue, creating=True)
    if not form.is_submitted():
        return _form_page(catalogue, form)
    return _save(catalogue, form, None, lambda values: admin.create_row(catalogue, values))


@bp.route("/admin/catalogos/<slug>/<key>/editar", methods=["GET", "POST"])
@rule("is_admin")
def edit(slug, key):
    catalogue = _catalogue(slug)
    row = _row(catalogue, key)
    form = catalogue_form(catalogue, creating=False, obj=row)
    if not form.is_submitted():
        return _form_page(catalogue, form, row)
    return _save(catalogue, form, row, lambda values: admin.update_row(catalogue, row, values))


@bp.route("/admin/catalogos/<slug>/<key>/desactivar", methods=["POST"])
@rule("is_admin")
def deactivate(slug, key):
    catalogue = _catalogue(slug)
    return act(lambda: admin.set_active(_row(catalogue, key), False), lambda row: _listed(catalogue, _(
        "Se desactivó «%(row)s»: ya no se ofrece en los formularios; los casos que lo usan no cambian.",
        row=catalogue.label(row))))


@bp.route("/admin/catalogos/<slug>/<key>/reactivar", methods=["POST"])
@rule("is_admin")
def reactivate(slug, key):
    catalogue = _catalogue(slug)
    return act(lambda: admin.set_active(_row(catalogue, key), True), lambda row: _listed(catalogue, _(
        "Se reactivó «%(row)s»: vuelve a ofrecerse en los formularios.", row=catalogue.label(row))))


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
    def save():
        if not form.validate():
            raise DomainError(_("Revise los campos marcados. No se guardó nada."))
        return action(form_values(form))

    return act(save, lambda saved: _saved(catalogue, row, saved),
               refused=lambda exc: _form_page(catalogue, form, row, status=422), form=form)


def _saved(catalogue, row, saved):
    label = catalogue.label(saved)
    flash(_("Se guardaron los cambios de «%(row)s».", row=label) if row else _("Se agregó «%(row)s».", row=label),
          "success")
    return redirect(url_for(".rows", slug=catalogue.slug, buscar=catalogue.key_of(saved)))


def _listed(catalogue, message):
    flash(message, "success")
    return redirect(url_for(".rows", slug=catalogue.slug, **_list_args(request.form)))


def _form_page(catalogue, form, row=None, status=200):
    return render_template("catalogs/form.html", catalogue=catalogue, form=form, row=row), status


def _list_args(source) -> dict:
    """The list's filters and page, carried through links and the deactivate/reactivate forms."""
    return {name: source[name] for name in LIST_ARGS if source.get(name)}

"""Reference catalogues (offices, municipalities, institutions, categories), their loader and admin pages."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("reference", __name__, template_folder="templates")


def init_app(app):
    from ..core import menu
    from . import models, views  # noqa: F401  (register tables with the metadata, routes on bp)

    app.register_blueprint(bp)
    menu.add(app, menu.Entry("reference.index", _l("Catálogos"), 91, group=_l("Administración"),
                             active=("reference.",)))

"""Process owners: edit, validate and publish diagrams and forms in the browser; see cases on diagrams."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("modeler", __name__, template_folder="templates")


def init_app(app):
    from ..core import menu
    from . import decision_views, form_views, models, views  # noqa: F401  (tables; routes on bp)

    app.register_blueprint(bp)
    menu.add(app,
             menu.Entry("modeler.index", _l("Procesos"), 40,
                        active=("modeler.index", "modeler.process", "modeler.editor", "modeler.differences")),
             menu.Entry("modeler.forms", _l("Formularios"), 41, active=("modeler.forms", "modeler.form_")),
             menu.Entry("modeler.decisions_list", _l("Decisiones"), 41,
                        active=("modeler.decisions_list", "modeler.decision_")),
             menu.Entry("modeler.views", _l("Casos por paso"), 42, active=("modeler.views", "modeler.view"),
                        unless="modeler.index"))  # the process editor links to the same views

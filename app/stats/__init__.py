"""Statistics: the case_facts projection, the indicator catalogue, the dashboard, reports and exports."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("stats", __name__, template_folder="templates")


def init_app(app):
    from ..core import menu
    from . import facts, models, views  # noqa: F401  (the session hooks, the table; routes on bp)

    app.register_blueprint(bp)
    menu.add(app, menu.Entry("stats.dashboard", _l("Estadísticas"), 50, active=("stats.",)))

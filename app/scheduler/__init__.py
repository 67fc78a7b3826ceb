"""The scheduler: timer sweeps, deadline notices and e-mail, one sweep at a time per database."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("scheduler", __name__, template_folder="templates")


def init_app(app):
    from ..core import menu
    from . import models, views  # noqa: F401  (tables; routes on bp)

    app.register_blueprint(bp)
    menu.add(app, menu.Entry("scheduler.index", _l("Planificador"), 94, group=_l("Administración"),
                             active=("scheduler.",)))

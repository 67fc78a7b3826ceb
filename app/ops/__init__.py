"""Operations: health endpoints, the audit trail page and database backups (for the people who run SIPROC)."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("ops", __name__, template_folder="templates")


def init_app(app):
    from ..core import menu
    from . import audit_views, health  # noqa: F401  (routes on bp)

    app.register_blueprint(bp)
    menu.add(app, menu.Entry("ops.audit", _l("Auditoría"), 92, group=_l("Administración"),
                             active=("ops.audit", "ops.audit_")))

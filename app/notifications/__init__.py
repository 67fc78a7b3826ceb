"""Notifications: reminders and deadline notices, in the app (the bell) and by e-mail."""
from flask import Blueprint

bp = Blueprint("notifications", __name__, template_folder="templates")


def init_app(app):
    from flask_login import current_user

    from ..cases.signals import notice
    from ..workflow.signals import instance_advanced
    from . import models, views  # noqa: F401  (the table; routes on bp)
    from .rules import on_instance_advanced
    from .services import store_notice, unread_count

    app.register_blueprint(bp)
    instance_advanced.connect(on_instance_advanced, weak=False)
    notice.connect(store_notice, weak=False)

    @app.context_processor
    def _unread_notices():
        """The bell's counter (computed only when the page shows it)."""
        return {"unread_notices": lambda: unread_count(current_user)}

"""The task inbox: officers' pending user tasks, each a form; claiming, assignment, drafts, supervision."""
from flask import Blueprint

bp = Blueprint("tasks", __name__, template_folder="templates")


def init_app(app):
    from flask_login import current_user

    from . import link_views, models, views  # noqa: F401  (the drafts table; routes on bp)
    from .inbox import counts

    app.register_blueprint(bp)

    @app.context_processor
    def _task_counts():
        """The inbox counters of the menu (computed only when the page shows them)."""
        return {"task_counts": lambda: counts(current_user)}

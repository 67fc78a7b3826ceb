"""The append-only, hash-chained audit trail."""


def init_app(app):
    from flask import g

    from ..extensions import db
    from . import models  # noqa: F401  (register the table)
    from .services import seal_pending
    from .views import bp

    app.register_blueprint(bp)

    @app.teardown_request
    def seal_after_request(exc):
        """Chain what this request recorded, in its own short transaction, once the request committed."""
        if g.pop("audit_recorded", False):
            db.session.rollback()  # whatever the request did not commit is not kept
            seal_pending()

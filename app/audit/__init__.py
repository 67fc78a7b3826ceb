"""The append-only audit trail: a keyed hash chain (HMAC), anchored outside the database after every seal."""
from sqlalchemy import event
from sqlalchemy.orm import Session


def init_app(app):
    from flask import g

    from ..extensions import db
    from . import models  # noqa: F401  (register the table)
    from .services import seal_pending

    @app.teardown_request
    def seal_after_request(exc):
        """Chain what this request recorded, in its own short transaction, once the request committed.

        When the session still holds uncommitted writes (a CLI command driving a test request context,
        or a view that rolled back) nothing is touched: the scheduler or the command seals later.
        """
        if g.pop("audit_recorded", False) and not db.session().info.get("uncommitted_writes"):
            db.session.rollback()  # only reads are pending here
            seal_pending()


@event.listens_for(Session, "after_flush")
def _mark_writes(session, _context):
    session.info["uncommitted_writes"] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _clear_writes(session):
    session.info.pop("uncommitted_writes", None)

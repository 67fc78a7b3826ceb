"""The bell: a user's notices, marking them read, and going to the task."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import clock
from ..core.ids import parse_id
from ..core.pagination import paginate
from ..extensions import db
from . import services

bp = Blueprint("notifications", __name__, template_folder="templates", url_prefix="/avisos")

ENDPOINT_RULES = {"notifications.index": "authenticated", "notifications.read": "authenticated",
                  "notifications.read_all": "authenticated"}


@bp.route("/")
def index():
    page = paginate(services.notices_for(current_user), request.args.get("pagina"),
                    current_app.config["INBOX_PAGE_SIZE"])
    return render_template("notifications/index.html", page=page)


@bp.route("/<notice_id>/leido", methods=["POST"])
def read(notice_id):
    """Mark as read and, when asked, go to the task the notice links to."""
    if parse_id(notice_id) is None or not services.mark_read(current_user, parse_id(notice_id), clock.now()):
        notice = None
    else:
        from .models import Notification

        notice = db.session.get(Notification, parse_id(notice_id))
    db.session.commit()
    if notice is not None and request.form.get("abrir") and notice.link:
        return redirect(notice.link)
    return redirect(url_for("notifications.index"))


@bp.route("/leidos", methods=["POST"])
def read_all():
    count = services.mark_read(current_user, None, clock.now())
    db.session.commit()
    flash(_("%(n)d avisos marcados como leídos.", n=count), "success")
    return redirect(url_for("notifications.index"))

"""The bell: a user's notices, marking them read, and going to the task."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core import clock
from ..core.access import AUTHENTICATED, rule
from ..core.ids import parse_id
from ..core.pagination import paginate
from ..core.web import act
from . import bp, services


@bp.route("/avisos/")
@rule(AUTHENTICATED)
def index():
    page = paginate(services.notices_for(current_user), request.args.get("pagina"),
                    current_app.config["INBOX_PAGE_SIZE"])
    return render_template("notifications/index.html", page=page)


@bp.route("/avisos/<notice_id>/leido", methods=["POST"])
@rule(AUTHENTICATED)
def read(notice_id):
    """Mark as read and, when asked, go to the task the notice links to."""
    return act(lambda: services.read_notice(current_user, parse_id(notice_id), clock.now()), _opened)


def _opened(notice):
    if notice is not None and request.form.get("abrir") and notice.link:
        return redirect(notice.link)
    return redirect(url_for("notifications.index"))


@bp.route("/avisos/leidos", methods=["POST"])
@rule(AUTHENTICATED)
def read_all():
    return act(lambda: services.mark_read(current_user, None, clock.now()), _all_read)


def _all_read(count):
    flash(_("%(n)d avisos marcados como leídos.", n=count), "success")
    return redirect(url_for("notifications.index"))

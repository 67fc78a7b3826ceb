"""Users, roles, login, sessions, the account and user pages, and the permission policy."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("auth", __name__, template_folder="templates")


def init_app(app):
    from flask import g

    from ..core import menu
    from ..extensions import login_manager
    from . import account_views, admin_views, guards, policy, sessions, views  # noqa: F401  (routes on bp)

    app.register_blueprint(bp)
    app.add_template_global(policy.can)
    app.jinja_env.tests["can"] = policy.can
    menu.add(app, menu.Entry("auth.users", _l("Usuarios"), 90, group=_l("Administración"),
                             active=("auth.users", "auth.user_")))
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Inicie sesión para continuar.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_key):
        """The user of an open server-side session (see app/auth/sessions.py); None for any other cookie."""
        row, user, refused = sessions.check(session_key)
        if refused:
            g.session_refused = (row, refused)
            return None
        g.user_session = row
        return user

    # The session is checked (and ends when idle, too old or revoked) before the permission policy sees it.
    app.before_request(guards.enforce_session)
    app.before_request(policy.check_request)
    app.before_request(guards.require_account_setup)

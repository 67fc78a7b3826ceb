"""Users, roles, login and the permission policy."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..core.ids import parse_id
    from ..extensions import db, login_manager
    from . import account_views, admin_views, guards, policy
    from .models import User
    from .views import bp

    app.register_blueprint(bp)
    app.register_blueprint(account_views.bp)
    app.register_blueprint(admin_views.bp)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Inicie sesión para continuar.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id):
        """The active user whose password has not changed since this session began (see User.get_id)."""
        user_id, _sep, token = str(session_id).partition(":")
        user = db.session.get(User, parse_id(user_id)) if parse_id(user_id) else None
        if user is None or not user.is_active or user.session_token != token:
            return None
        return user

    app.before_request(policy.check_request)
    app.before_request(guards.expire_idle_session)
    app.before_request(guards.require_account_setup)

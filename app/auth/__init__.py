"""Users, roles, login and the permission policy."""
from flask_babel import lazy_gettext as _l


def init_app(app):
    from ..extensions import db, login_manager
    from . import policy
    from .models import User
    from .views import bp

    app.register_blueprint(bp)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Inicie sesión para continuar.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id):
        return db.session.get(User, int(user_id)) if str(user_id).isdigit() else None

    app.before_request(policy.check_request)

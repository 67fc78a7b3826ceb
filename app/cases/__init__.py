"""The case file: persons, cases, timeline, transfers, retention, and the domain actions bound to forms."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("cases", __name__, template_folder="templates")


def init_app(app):
    from ..auth import policy
    from ..core import keys, menu
    from ..workflow.signals import instance_advanced
    from . import (  # noqa: F401  (register actions, field checks and tables; routes on bp)
        access_log_views,
        actions,
        connectors,
        course_views,
        emergency_views,
        identity,
        link_views,
        models,
        person_views,
        print_views,
        record_views,
        referral_link_views,
        retention_views,
        transfer_views,
        views,
    )
    from .emergency import active_access
    from .persons import refresh_search_hashes
    from .referrals import on_instance_advanced as bind_referral_tasks
    from .services import follow_workflow
    from .transfers import pending_to_supervisor

    app.register_blueprint(bp)
    instance_advanced.connect(follow_workflow, weak=False)
    instance_advanced.connect(bind_referral_tasks, weak=False)
    keys.after_rotation("persons.search_hashes", refresh_search_hashes)
    # break-glass (read-only, time-boxed, audited, notified); the supervisors of an office a transfer is pending to
    policy.grant_case_read("emergency_access", lambda user, case: active_access(user, case) is not None)
    policy.grant_case_read("pending_transfer", pending_to_supervisor)
    menu.add(app, menu.Entry("cases.index", _l("Casos"), 20, active=("cases.index", "cases.detail")),
             menu.Entry("cases.transfers", _l("Traslados"), 30, active=("cases.transfers", "cases.transfer_")),
             menu.Entry("cases.retention", _l("Retención"), 93, group=_l("Administración"),
                        active=("cases.retention", "cases.retention_")))

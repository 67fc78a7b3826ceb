"""The one permission policy of SIPROC. Every endpoint needs a rule here; no rule means refused.

Endpoint rules say who may reach a URL at all; object rules (can_*) say who may see or act on
one record and are called by the views through `require`.
"""
from flask import abort, request
from flask_login import current_user

from ..audit.views import ENDPOINT_RULES as audit_rules
from ..cases.retention_views import ENDPOINT_RULES as retention_rules
from ..modeler.form_views import ENDPOINT_RULES as form_rules
from ..modeler.views import ENDPOINT_RULES as modeler_rules
from ..notifications.views import ENDPOINT_RULES as notification_rules
from ..ops.health import ENDPOINT_RULES as health_rules
from ..reference.views import ENDPOINT_RULES as catalog_rules
from ..scheduler.views import ENDPOINT_RULES as scheduler_rules
from ..stats.views import ENDPOINT_RULES as stats_rules
from . import roles
from .account_views import ENDPOINT_RULES as account_rules
from .admin_views import ENDPOINT_RULES as user_admin_rules
from .views import ENDPOINT_RULES as login_rules

PUBLIC = "public"
AUTHENTICATED = "authenticated"


def _has_role(*codes):
    return lambda user: user.role in codes


ENDPOINT_RULES = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": AUTHENTICATED,
    "web.home": AUTHENTICATED,
    "tasks.inbox": AUTHENTICATED,
    "tasks.show": AUTHENTICATED,
    "tasks.submit": AUTHENTICATED,
    "tasks.claim": AUTHENTICATED,
    "tasks.release": AUTHENTICATED,
    "tasks.assign": AUTHENTICATED,
    "tasks.save_draft": AUTHENTICATED,
    "tasks.supervision": lambda user: user.role == roles.SUPERVISOR.code or user.is_central,
    "cases.assign": AUTHENTICATED,
    "cases.index": AUTHENTICATED,
    "cases.detail": AUTHENTICATED,
    "cases.new": lambda user: can_start_case(user),
    "cases.search": AUTHENTICATED,
    "cases.add_note": AUTHENTICATED,
    "cases.upload": AUTHENTICATED,
    "cases.download": AUTHENTICATED,
    "cases.update_referral": AUTHENTICATED,
    "cases.edit_person": AUTHENTICATED,
    "cases.request_transfer": AUTHENTICATED,
    "cases.override_consent": AUTHENTICATED,
    "cases.diagram": AUTHENTICATED,
    "cases.link_requests_page": AUTHENTICATED,
    "cases.request_link": AUTHENTICATED,
    "cases.decide_link": AUTHENTICATED,
    "cases.emergency_access": AUTHENTICATED,  # the view refuses roles that may not ask (can_request)
    "cases.end_emergency_access": AUTHENTICATED,
    "transfers.index": AUTHENTICATED,
    "transfers.decide": AUTHENTICATED,
}
ENDPOINT_RULES.update(catalog_rules)
ENDPOINT_RULES.update(audit_rules)
ENDPOINT_RULES.update(login_rules)
ENDPOINT_RULES.update(account_rules)
ENDPOINT_RULES.update(user_admin_rules)
ENDPOINT_RULES.update(retention_rules)
ENDPOINT_RULES.update(notification_rules)
ENDPOINT_RULES.update(scheduler_rules)
ENDPOINT_RULES.update(modeler_rules)
ENDPOINT_RULES.update(form_rules)
ENDPOINT_RULES.update(stats_rules)
ENDPOINT_RULES.update(health_rules)


def rule_for(endpoint):
    return ENDPOINT_RULES.get(endpoint)


def check_request():
    """before_request hook: deny by default, require login unless the endpoint is public."""
    if request.endpoint is None:
        return None  # no route matched: Flask answers 404/405 itself
    rule = rule_for(request.endpoint)
    if rule is None:
        abort(403)
    if rule == PUBLIC:
        return None
    if not current_user.is_authenticated:
        from ..extensions import login_manager

        return login_manager.unauthorized()
    if rule != AUTHENTICATED and not rule(current_user):
        abort(403)
    return None


def require(allowed: bool):
    """Abort with 403 unless the object rule allowed the action."""
    if not allowed:
        abort(403)


def sees_office(user, office_id) -> bool:
    return user.is_central or user.office_id == office_id


def can_view_case(user, case) -> bool:
    """The case's office and central users; a holder of an active emergency access; the supervisors of an office
    a transfer is pending to."""
    if sees_office(user, case.office_id):
        return True
    from ..cases.emergency import active_access

    if active_access(user, case) is not None:  # break-glass: read-only, time-boxed, audited, notified
        return True
    if user.role == roles.SUPERVISOR.code:
        from ..cases.transfers import pending_transfer

        transfer = pending_transfer(case)
        return transfer is not None and transfer.to_office_id == user.office_id
    return False


def can_edit_case(user, case) -> bool:
    """Officers and supervisors of the case's office add notes, documents, referral updates, person data."""
    return user.role in (roles.OFICIAL.code, roles.SUPERVISOR.code) and user.office_id == case.office_id


def can_override_consent(user, case) -> bool:
    """Only a supervisor of the case's office may authorise referrals without consent."""
    return user.role == roles.SUPERVISOR.code and user.office_id == case.office_id


def can_request_transfer(user, case) -> bool:
    return can_edit_case(user, case)


def can_decide_transfer(user, transfer) -> bool:
    """Only a supervisor of the receiving office accepts or refuses a transfer."""
    return user.role == roles.SUPERVISOR.code and user.office_id == transfer.to_office_id


def can_start_case(user) -> bool:
    """Officers and supervisors open cases in their own office."""
    return user.role in (roles.OFICIAL.code, roles.SUPERVISOR.code)


def can_work_task(user, human_task) -> bool:
    """Supervisors work any task of their office; a claimed task is its assignee's; an offered one goes to
    users whose role matches its lane in its office (central users: any office)."""
    if user.role == roles.SUPERVISOR.code and user.office_id == human_task.office_id:
        return True
    if human_task.assignee_id is not None:
        return human_task.assignee_id == user.id
    return human_task.role == user.role and sees_office(user, human_task.office_id)


def can_view_task(user, human_task) -> bool:
    return can_work_task(user, human_task) or sees_office(user, human_task.office_id)

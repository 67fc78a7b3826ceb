"""Signals the case domain sends, so that the packages reacting to them (notifications) are not imported here."""
from blinker import Namespace

_signals = Namespace()

# A user must be told something about a case: sender=None; user, kind, title, body, link, now, dedup_key, and
# case_id (optional). app/notifications stores it as a notice (once per dedup_key) and e-mails it.
notice = _signals.signal("case-notice")


def tell(user, *, kind, title, body, link, now, dedup_key, case_id=None) -> None:
    notice.send(None, user=user, kind=kind, title=str(title)[:200], body=str(body), link=link, now=now,
                dedup_key=dedup_key[:120], case_id=case_id)

"""The case-number year is the office's local year, the year the statistics count the case in: a Madrid case opened
at 00:30 on 1 January local time is numbered in the new year; a Houston case opened at 19:00 on 31 December
(already 1 January in UTC) in the old one; each office's yearly counter follows."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.auth.services import create_user
from app.cases.models import CaseCounter
from app.core import clock
from app.extensions import db
from app.reference.models import Office
from app.stats.models import CaseFact
from tests.conftest import PASSWORD
from tests.helpers import case_of, register_case, utc


def at(moment):
    """Move the injectable clock to a UTC moment."""
    clock.travel(moment - clock.now())


def officer_of(code):
    """An officer of that office (created once), and the office."""
    from app.auth.models import User

    username = f"oficial.{code.lower()}"
    office = db.session.scalar(db.select(Office).where(Office.code == code))
    if db.session.scalar(db.select(User).where(User.username == username)) is None:
        create_user(username, f"Oficial {code}", PASSWORD, "oficial", office)
        db.session.commit()
    return username, office


def opened(login, code, moment):
    """Register a case through the web in `code`'s office at a UTC moment: (case, its stats row, the office)."""
    username, office = officer_of(code)
    at(moment)
    case = case_of(register_case(login(username)))
    return case, db.session.get(CaseFact, case.id), office


@pytest.mark.parametrize(("code", "moment", "year", "local"), [
    # Madrid is UTC+1 in winter: 23:30 UTC on 31 December is 00:30 on 1 January
    ("MAD", utc(2026, 12, 31, 23, 30), 2027, datetime(2027, 1, 1, 0, 30)),
    # Houston (UTC-6): 01:00 UTC on 1 January is 19:00 on 31 December
    ("HOU", utc(2027, 1, 1, 1, 0), 2026, datetime(2026, 12, 31, 19, 0)),
    # Tapachula (UTC-6, no daylight saving time)
    ("TAP", utc(2027, 1, 1, 5, 50), 2026, datetime(2026, 12, 31, 23, 50)),
])
def test_the_number_carries_the_local_year_and_the_statistics_agree(login, code, moment, year, local):
    case, fact, office = opened(login, code, moment)
    assert clock.as_utc(case.opened_at).astimezone(ZoneInfo(office.timezone)).replace(
        tzinfo=None, second=0, microsecond=0) == local  # registered within the minute
    assert case.number == f"{code}-{year}-00001"
    assert db.session.get(CaseCounter, (office.id, year)).last_number == 1
    assert db.session.get(CaseCounter, (office.id, moment.year)) is None  # UTC's year
    assert fact.opened_month // 100 == year and fact.opened_on.year == year


def test_the_counter_restarts_at_local_midnight_not_at_utc_midnight(login):
    """Three Madrid cases: 23:00 and 23:50 local on 31 December, then 00:10 on 1 January (23:10 UTC)."""
    numbers = [opened(login, "MAD", moment)[0].number
               for moment in (utc(2026, 12, 31, 22, 0), utc(2026, 12, 31, 22, 50), utc(2026, 12, 31, 23, 10))]
    assert numbers == ["MAD-2026-00001", "MAD-2026-00002", "MAD-2027-00001"]
    mad = db.session.scalar(db.select(Office).where(Office.code == "MAD"))
    assert db.session.get(CaseCounter, (mad.id, 2026)).last_number == 2
    assert db.session.get(CaseCounter, (mad.id, 2027)).last_number == 1

"""fill cases.age_at_opening of cases opened before it existed (migration 6894e3431d6e added it empty), then
recompute their statistics rows, so first-release cases count in their age band and as children.

Revision ID: c1d2e3f4a5b6
Revises: a331cbcb9e2d
Create Date: 2026-11-29 10:20:00

"""
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = 'c1d2e3f4a5b6'
down_revision = 'a331cbcb9e2d'
branch_labels = None
depends_on = None


def _day(value):
    if value is None:
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT c.id, c.opened_at, p.birth_date, p.estimated_age, p.created_at FROM cases c "
        "JOIN persons p ON p.id = c.person_id WHERE c.age_at_opening IS NULL")).all()
    filled = []
    for case_id, opened_at, birth_date, estimated_age, person_created in rows:
        opened, born = _day(opened_at), _day(birth_date)
        if born is not None and opened is not None:
            age = opened.year - born.year - ((opened.month, opened.day) < (born.month, born.day))
        elif estimated_age is not None:
            age = estimated_age  # estimated at registration, which is when these cases were opened
        else:
            continue
        bind.execute(sa.text("UPDATE cases SET age_at_opening = :age WHERE id = :id"), {"age": age, "id": case_id})
        filled.append(case_id)
    if filled:
        from app.stats.facts import refresh

        refresh(bind, filled)


def downgrade():
    pass  # the values are true facts about those cases; nothing to undo

"""The statistics table: case_facts, the derived one-row-per-case projection that app/stats/facts.py refreshes."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class CaseFact(db.Model):
    """The statistical shadow of a case (derived; see the module docstring)."""

    __tablename__ = "case_facts"
    # Two covering indexes: every dashboard aggregate is a range scan of one of them, never a table lookup.
    __table_args__ = (
        sa.Index("ix_case_facts_opened", "opened_on", "office_id", "category_code", "sex", "age_band",
                 "opened_month", "department_code", "municipality_code", "child", "unaccompanied",
                 "days_to_first_assistance"),
        sa.Index("ix_case_facts_closed", "closed_on", "office_id", "category_code", "sex", "age_band",
                 "closed_month", "days_to_close", "opened_on"),
    )

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    category_code: Mapped[str] = mapped_column(sa.String(10))
    sex: Mapped[str | None] = mapped_column(sa.String(1))
    age_band: Mapped[int | None] = mapped_column(sa.SmallInteger)
    child: Mapped[bool] = mapped_column(default=False)
    unaccompanied: Mapped[bool] = mapped_column(default=False)
    department_code: Mapped[str | None] = mapped_column(sa.String(2))
    municipality_code: Mapped[str | None] = mapped_column(sa.String(4))
    event_country: Mapped[str | None] = mapped_column(sa.String(2))
    opened_on: Mapped[date]
    opened_month: Mapped[int]
    closed_on: Mapped[date | None]
    closed_month: Mapped[int | None]
    days_to_close: Mapped[int | None]
    first_assistance_on: Mapped[date | None]
    days_to_first_assistance: Mapped[int | None]

"""Reference catalogues: offices, Honduran departments and municipalities, institutions, categories."""
import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Office(db.Model):
    """A consular office or a DGPHM unit; its code prefixes case numbers (TAP-2026-00042)."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    country: Mapped[str] = mapped_column(String(2))
    state_or_department: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[str | None] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Four eyes: whoever completed the step an approval task approves (a closure proposal, a FOSMIH quotation;
    # the task's `approvalOf` property) may not approve it in this office.
    four_eyes_approvals: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    @property
    def is_central(self) -> bool:
        return self.kind == "central"


class Department(db.Model):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class Municipality(db.Model):
    """Municipality by its INE/RNP code, the first four digits of a DNI (0801 Distrito Central)."""

    __tablename__ = "municipalities"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    department = relationship(Department, lazy="joined")


class Institution(db.Model):
    """A partner institution cases are referred to."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(250))
    short_name: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(30))
    categories: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    focal_name: Mapped[str | None] = mapped_column(String(200))  # the focal point who receives referrals
    focal_email: Mapped[str | None] = mapped_column(String(254))
    focal_phone: Mapped[str | None] = mapped_column(String(40))
    response_days: Mapped[int | None]  # usual answer deadline for a referral, in days


class CaseCategory(db.Model):
    __tablename__ = "case_categories"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    name_en: Mapped[str | None] = mapped_column(String(150))
    typical_subtypes: Mapped[str | None] = mapped_column(Text)
    typical_referrals: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)


class LegalArea(db.Model):
    __tablename__ = "legal_areas"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class VulnerabilityMarker(db.Model):
    __tablename__ = "vulnerability_markers"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    name_en: Mapped[str | None] = mapped_column(String(150))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

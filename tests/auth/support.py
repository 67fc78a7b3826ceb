"""Helpers for the login and account tests."""
import re

import pyotp

from app.audit.models import AuditEvent
from app.auth.models import LoginAttempt, User
from app.core import clock
from app.extensions import db
from tests.conftest import PASSWORD

LOCKED = "Cuenta bloqueada temporalmente por intentos fallidos. Inténtelo de nuevo en {} minutos."
WRONG = "Usuario o contraseña incorrectos."


def user(username) -> User:
    db.session.expire_all()
    return db.session.scalar(db.select(User).where(User.username == username))


def events(action, **where) -> list[AuditEvent]:
    db.session.expire_all()
    query = db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return db.session.scalars(query).all()


def attempts() -> int:
    return db.session.scalar(db.select(db.func.count(LoginAttempt.id)))


def post_login(client, username, password=PASSWORD, ip=None, **kw):
    environ = {"REMOTE_ADDR": ip} if ip else {}
    return client.post("/login", data={"username": username, "password": password}, environ_base=environ, **kw)


def code_for(secret, steps_ahead=0) -> str:
    """What the user's authenticator app shows now (or some 30-second steps later)."""
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(clock.now()) + steps_ahead)


def wrong_code(secret) -> str:
    valid = {code_for(secret, step) for step in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def enrol(client) -> str:
    """Enrol a second factor through «Mi cuenta» as a user would; returns the secret."""
    page = client.get("/cuenta/segundo-factor").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    response = client.post("/cuenta/segundo-factor", data={"code": code_for(secret)})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return secret

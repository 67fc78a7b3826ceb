"""The password policy applies to every password set: creation, own change, administrator reset. Argon2id."""
import pytest
from argon2 import PasswordHasher

from app.auth import password_policy
from app.auth.password_policy import MIN_PASSWORD_LENGTH, generate_password, password_problems
from app.auth.passwords import needs_rehash
from app.auth.services import create_user
from app.core.errors import DomainError
from app.extensions import db
from app.reference.models import Office
from tests.auth.support import attempts, events, post_login, user
from tests.conftest import PASSWORD, flashes


@pytest.mark.parametrize("password,message", [
    ("corta-123", "al menos 12 caracteres"),
    ("qwerty123456", "demasiado común"),
    ("QWERTY123456", "demasiado común"),  # the list is compared without regard to case
    ("contraseña123", "demasiado común"),  # Spanish additions to the list
    ("Honduras2024", "demasiado común"),
    ("mi-clave-maria.lopez-segura", "nombre de usuario"),
    ("MARIA.LOPEZ-es-mi-clave", "nombre de usuario"),
    ("la clave de maría es buena", "su nombre"),
    ("x" * 129, "más de 128"),
])
def test_policy_refusals_are_explained_in_spanish(password, message):
    problems = password_problems(password, "maria.lopez", "María Fernanda López")
    assert any(message in problem for problem in problems), problems


def test_a_long_uncommon_password_is_accepted():
    assert MIN_PASSWORD_LENGTH == 12
    assert password_problems("tres ríos y un volcán", "maria.lopez", "María Fernanda López") == []
    assert password_problems("tap-consulado-lejano", "oficial.tap", "Oficial Tap") == []  # "tap" is too short a part


def test_common_passwords_are_loaded_once_into_a_frozenset():
    password_policy.common_passwords.cache_clear()
    first = password_policy.common_passwords()
    assert isinstance(first, frozenset) and len(first) > 30000 and "contraseña123" in first
    assert password_policy.common_passwords() is first


def test_generated_passwords_meet_the_policy_and_differ():
    passwords = {generate_password("ana.reyes", "Ana Reyes") for _ in range(50)}
    assert len(passwords) == 50
    assert all(not password_problems(p, "ana.reyes", "Ana Reyes") and len(p) >= 16 for p in passwords)


def test_create_user_refuses_a_weak_password_and_saves_nothing(app):
    office = db.session.scalar(db.select(Office).where(Office.code == "TAP"))
    with pytest.raises(DomainError) as refused:
        create_user("nuevo.oficial", "Nuevo Oficial", "honduras2024", "oficial", office)
    assert "demasiado común" in refused.value.message
    db.session.rollback()
    assert user("nuevo.oficial") is None


def test_users_change_their_own_password(login, client):
    officer = login("oficial.tap")
    before = user("oficial.tap").password_hash
    response = officer.post("/cuenta/contrasena", data={"current_password": PASSWORD,
                                                        "new_password": "un río largo en Tapachula",
                                                        "confirm_password": "un río largo en Tapachula"})
    assert response.status_code == 302
    assert "Su contraseña se cambió." in flashes(officer.get("/cuenta/").get_data(as_text=True))
    changed = user("oficial.tap")
    assert changed.password_hash != before and changed.password_changed_at is not None
    assert post_login(client, "oficial.tap").status_code == 200  # the old password no longer works
    assert post_login(client, "oficial.tap", "un río largo en Tapachula").status_code == 302
    event = events("password_reset", actor_id=changed.id)[-1]
    assert event.details["motivo"] == "cambio por el propio usuario"


@pytest.mark.parametrize("current,new,confirm,message", [
    (PASSWORD, "contraseña123", "contraseña123", "demasiado común"),
    (PASSWORD, "corta", "corta", "al menos 12 caracteres"),
    (PASSWORD, "oficial.tap-y-mas-cosas", "oficial.tap-y-mas-cosas", "nombre de usuario"),
    (PASSWORD, "un río largo en Tapachula", "otra cosa distinta", "no coinciden"),
    (PASSWORD, PASSWORD, PASSWORD, "distinta de la actual"),
    ("no-es-la-actual", "un río largo en Tapachula", "un río largo en Tapachula", "contraseña actual no es correcta"),
])
def test_refused_password_changes_change_nothing(login, current, new, confirm, message):
    officer = login("oficial.tap")
    before = user("oficial.tap").password_hash
    response = officer.post("/cuenta/contrasena", data={"current_password": current, "new_password": new,
                                                        "confirm_password": confirm})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user("oficial.tap").password_hash == before
    assert events("password_reset") == []


def test_wrong_current_passwords_count_for_the_lockout(login, client):
    officer = login("oficial.tap")
    before = attempts()
    for _ in range(5):
        officer.post("/cuenta/contrasena", data={"current_password": "adivinando-la-clave", "new_password":
                                                 "un río largo en Tapachula", "confirm_password":
                                                 "un río largo en Tapachula"})
    assert attempts() == before + 5
    response = officer.post("/cuenta/contrasena", data={"current_password": PASSWORD, "new_password":
                                                        "un río largo en Tapachula", "confirm_password":
                                                        "un río largo en Tapachula"})
    assert "Cuenta bloqueada temporalmente" in response.get_data(as_text=True)
    assert post_login(client, "oficial.tap").status_code == 429


def test_an_old_hash_is_upgraded_at_login(client):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    officer = user("oficial.tap")
    officer.password_hash = weak
    db.session.commit()
    assert needs_rehash(weak)
    assert post_login(client, "oficial.tap").status_code == 302
    upgraded = user("oficial.tap").password_hash
    assert upgraded != weak and not needs_rehash(upgraded)
    assert post_login(client.application.test_client(), "oficial.tap").status_code == 302

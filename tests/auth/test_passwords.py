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


def test_the_installation_hashes_with_argon2_cffi_defaults_and_upgrades_the_cheap_test_hashes(template_db, tmp_path):
    """The suite hashes at minimum cost (tests/conftest.py CHEAP_ARGON2); a real installation must not."""
    from app import create_app
    from app.auth.passwords import hash_password, verify_password
    from tests.conftest import CHEAP_ARGON2, clone_db, drop_db, make_app

    installed = create_app({"INSTANCE_PATH": str(tmp_path / "installed"), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    real = {key: installed.config[key] for key in CHEAP_ARGON2}
    defaults = PasswordHasher()
    assert real == {"ARGON2_TIME_COST": defaults.time_cost, "ARGON2_MEMORY_COST": defaults.memory_cost,
                    "ARGON2_PARALLELISM": defaults.parallelism} == {
        "ARGON2_TIME_COST": 3, "ARGON2_MEMORY_COST": 65536, "ARGON2_PARALLELISM": 4}
    with installed.app_context():
        made = hash_password(PASSWORD)
        assert made.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert verify_password(made, PASSWORD) and not needs_rehash(made)

    # A template user (hashed cheaply) logs in to an app with the real parameters: it verifies, and the stored
    # hash is replaced by one with the real parameters.
    database = clone_db(template_db, tmp_path, "real.db")
    app = make_app(database, tmp_path / "real", **real)
    try:
        with app.app_context():
            cheap = user("oficial.tap").password_hash
            assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$") and needs_rehash(cheap)
            assert post_login(app.test_client(), "oficial.tap").status_code == 302
            upgraded = user("oficial.tap").password_hash
            assert upgraded.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and not needs_rehash(upgraded)
            assert verify_password(upgraded, PASSWORD)
            assert post_login(app.test_client(), "oficial.tap").status_code == 302
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_db(database)

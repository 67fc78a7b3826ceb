"""`flask siproc create-admin`: the first administrator of an installation, from the command line, no input."""
import re

from app.auth.passwords import verify_password
from tests.auth.support import events, post_login, user
from tests.conftest import flashes

PRINTED = re.compile(r"Contraseña temporal \(se muestra una sola vez; deberá cambiarla al entrar\): (\S+)")


def run(app, *args):
    return app.test_cli_runner().invoke(args=["siproc", "create-admin", *args])


def test_creates_an_active_administrator_with_a_password_printed_once(app):
    result = run(app, "jefa.sistemas", "--full-name", "Ana Jefa de Sistemas", "--office", "DGPHM",
                 "--email", "ana@example.org")
    assert result.exit_code == 0, result.output
    password = PRINTED.search(result.output).group(1)
    assert len(password) >= 16 and result.output.count(password) == 1
    admin = user("jefa.sistemas")
    assert admin.role == "admin" and admin.is_active_user and admin.must_change_password
    assert admin.office.code == "DGPHM" and admin.email == "ana@example.org"
    assert admin.full_name == "Ana Jefa de Sistemas"
    assert verify_password(admin.password_hash, password)
    [event] = events("user_created", object_id=str(admin.id))
    assert event.actor_id is None and event.actor_name == "cli"
    assert event.details["rol"] == "admin" and event.details["contraseña"] == "generada"
    assert event.hash is not None  # sealed into the chain like other commands' rows

    client = app.test_client()
    assert post_login(client, "jefa.sistemas", password).status_code == 302
    response = client.get("/admin/usuarios/")
    assert response.status_code == 302 and "/cuenta/" in response.headers["Location"]  # must change it first
    assert "Debe cambiar la contraseña temporal antes de continuar." in flashes(
        client.get(response.headers["Location"]).get_data(as_text=True))


def test_the_email_is_optional_and_no_input_is_read(app):
    result = app.test_cli_runner().invoke(args=["siproc", "create-admin", "segundo.admin", "--full-name",
                                                "Segundo Administrador", "--office", "tap"], input=None)
    assert result.exit_code == 0, result.output
    assert user("segundo.admin").email is None and user("segundo.admin").office.code == "TAP"


def test_refuses_an_existing_username_and_changes_nothing(app):
    before = user("admin").password_hash
    result = run(app, "admin", "--full-name", "Otro", "--office", "DGPHM")
    assert result.exit_code != 0 and "Ya existe un usuario con el nombre admin." in result.output
    assert user("admin").password_hash == before and "Contraseña temporal" not in result.output
    assert events("user_created") == []


def test_refuses_an_unknown_office_and_missing_options(app):
    result = run(app, "nuevo.admin", "--full-name", "Nuevo Admin", "--office", "NOPE")
    assert result.exit_code != 0 and "No existe una oficina activa con el código NOPE." in result.output
    assert user("nuevo.admin") is None
    result = run(app, "nuevo.admin", "--office", "DGPHM")
    assert result.exit_code != 0 and "--full-name" in result.output
    assert user("nuevo.admin") is None

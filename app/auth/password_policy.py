"""The password policy applied to every password that is set (creation, reset, change), and generated passwords.

At least MIN_PASSWORD_LENGTH characters, not one of the common passwords shipped in data/common_passwords.txt
(compared without regard to case), and not containing the username or the user's given name.
"""
import functools
import secrets
from pathlib import Path

from flask_babel import gettext as _

from ..core.errors import DomainError
from ..core.text import normalize

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common_passwords.txt"
# Generated passwords: no look-alike characters (0/O, 1/l/I), grouped for reading aloud or copying.
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_GROUPS, _GROUP_SIZE = 4, 4
# Shorter name parts ("tap", "de") would refuse too many good passwords.
_MIN_USERNAME_PART, _MIN_GIVEN_NAME = 4, 3


@functools.cache
def common_passwords() -> frozenset[str]:
    """The refused list, loaded once on first use."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problems(password: str, username: str = "", full_name: str = "") -> list[str]:
    """Why this password is refused for this user, in Spanish; empty when it is acceptable."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [_("La contraseña debe tener al menos %(n)d caracteres.", n=MIN_PASSWORD_LENGTH)]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [_("La contraseña no puede tener más de %(n)d caracteres.", n=MAX_PASSWORD_LENGTH)]
    problems = []
    if password.lower() in common_passwords():
        problems.append(_("Esa contraseña es demasiado común y fácil de adivinar. Elija otra."))
    plain = normalize(password).replace(" ", "")
    if any(part in plain for part in _username_parts(username)):
        problems.append(_("La contraseña no puede contener el nombre de usuario."))
    given = _given_name(full_name)
    if given and given in plain:
        problems.append(_("La contraseña no puede contener su nombre."))
    return problems


def check_password(password: str, username: str = "", full_name: str = "", field: str = "password") -> None:
    """Raise a DomainError (message for the field `field`) unless the password meets the policy."""
    problems = password_problems(password, username, full_name)
    if problems:
        message = " ".join(problems)
        raise DomainError(_("La contraseña no cumple la política: %(p)s", p=message), {field: message})


def generate_password(username: str = "", full_name: str = "") -> str:
    """A random password that meets the policy (about 80 bits), e.g. 'kq7m-x3pz-c9ta-r2hw'."""
    while True:
        groups = ("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_SIZE)) for _ in range(_GROUPS))
        password = "-".join(groups)
        if not password_problems(password, username, full_name):
            return password


def _username_parts(username: str) -> set[str]:
    """The whole username and its longer parts: 'oficial.tap' -> {'oficialtap', 'oficial.tap', 'oficial'}."""
    name = normalize(username).replace(" ", "")
    if not name:
        return set()
    parts = {name, name.replace(".", "").replace("_", "").replace("-", "")}
    for separator in "._-":
        name = name.replace(separator, " ")
    parts.update(part for part in name.split() if len(part) >= _MIN_USERNAME_PART)
    return parts


def _given_name(full_name: str) -> str:
    """The first given name, lower-case and without accents ('Ana Lucía Reyes' -> 'ana')."""
    words = normalize(full_name).split()
    return words[0] if words and len(words[0]) >= _MIN_GIVEN_NAME else ""

"""Forms of login, the second factor, "Mi cuenta" and user administration."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from .password_policy import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

TOO_LONG = _l("Demasiado largo.")
PASSWORD_HELP = _l("Al menos %(n)d caracteres. No puede ser una contraseña común ni contener su nombre de usuario o "
                   "su nombre. Una frase de varias palabras es fácil de recordar y difícil de adivinar.",
                   n=MIN_PASSWORD_LENGTH)
CODE_VALIDATORS = [DataRequired(_l("Escriba el código de 6 dígitos.")),
                   Regexp(r"^\s*\d{3}[\s-]?\d{3}\s*$", message=_l("El código tiene 6 dígitos."))]


def _max(size):
    return Length(max=size, message=TOO_LONG)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    username = StringField(_l("Usuario"), validators=[DataRequired(_l("Escriba su usuario.")), _max(80)])
    password = PasswordField(_l("Contraseña"), validators=[DataRequired(_l("Escriba su contraseña.")),
                                                           _max(1024)])


class CodeForm(FlaskForm):
    code = StringField(_l("Código de verificación"), validators=CODE_VALIDATORS,
                       description=_l("Los 6 dígitos que muestra ahora su aplicación de autenticación."))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Contraseña actual"),
                                     validators=[DataRequired(_l("Escriba su contraseña actual.")), _max(1024)])
    new_password = PasswordField(_l("Nueva contraseña"),
                                 validators=[DataRequired(_l("Escriba la nueva contraseña.")),
                                             _max(MAX_PASSWORD_LENGTH)],
                                 description=PASSWORD_HELP)
    confirm_password = PasswordField(_l("Repita la nueva contraseña"), validators=[
        DataRequired(_l("Repita la nueva contraseña.")),
        EqualTo("new_password", _l("Las dos contraseñas nuevas no coinciden."))])


class TotpConfirmForm(FlaskForm):
    code = StringField(_l("Código que muestra la aplicación"), validators=CODE_VALIDATORS)


def _role_field():
    # validate_choice off: the service refuses unknown values with a Spanish message
    return SelectField(_l("Rol"), validators=[DataRequired(_l("Elija un rol."))], validate_choice=False)


def _office_field():
    return SelectField(_l("Oficina"), validators=[DataRequired(_l("Elija una oficina."))], validate_choice=False)


class UserAccessForm(FlaskForm):
    """Role, office and active flag: what an administrator changes on an existing user."""

    role = _role_field()
    office_id = _office_field()
    active = BooleanField(_l("Cuenta activa (puede iniciar sesión)"))


class UserCreateForm(FlaskForm):
    username = StringField(_l("Usuario"), filters=[_strip],
                           validators=[DataRequired(_l("Escriba el nombre de usuario.")), _max(80)],
                           description=_l("Letras minúsculas sin tilde, dígitos, puntos o guiones "
                                          "(p. ej. maria.lopez). No se puede cambiar después."))
    full_name = StringField(_l("Nombre completo"), filters=[_strip],
                            validators=[DataRequired(_l("Escriba el nombre completo.")), _max(200)])
    email = StringField(_l("Correo electrónico"), filters=[_strip], validators=[
        Optional(), _max(200), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Correo no válido."))])
    role = _role_field()
    office_id = _office_field()
    password = PasswordField(_l("Contraseña inicial"), validators=[Optional(), _max(MAX_PASSWORD_LENGTH)],
                             description=_l("Déjela vacía para generar una contraseña temporal, que se mostrará "
                                            "una sola vez. En ambos casos el usuario deberá cambiarla al entrar."))


def set_access_choices(form, role_choices, office_choices):
    """Fill the role and office lists (offices: active ones, plus the user's current office)."""
    form.role.choices = [("", _l("— Elija —")), *role_choices]
    form.office_id.choices = [("", _l("— Elija —")), *office_choices]

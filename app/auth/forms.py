"""Login form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Usuario"), validators=[DataRequired(_l("Escriba su usuario.")), Length(max=80)])
    password = PasswordField(_l("Contraseña"), validators=[DataRequired(_l("Escriba su contraseña."))])

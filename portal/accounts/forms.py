from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from portal.core.forms import PortalForm, ZoneField

LANGUAGE_CHOICES = [("ko", "한국어"), ("en", "English")]


class LoginForm(PortalForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Continue"))


class CodeForm(PortalForm):
    # Translators: the 6-digit code of an authenticator app (TOTP), or a recovery code.
    # ASCII letters and digits only: look-alike digits (full-width, Arabic-Indic) are refused, not converted.
    code = StringField(_l("Verification code"), validators=[
        DataRequired(), Length(max=32),
        Regexp(r"^[A-Za-z0-9 -]+$", message=_l("Type the code with the digits 0 to 9 (a recovery code: letters "
                                               "and digits)."))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})
    submit = SubmitField(_l("Verify"))


class PasswordChoiceMixin:
    password = PasswordField(_l("New password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class AcceptInvitationForm(PasswordChoiceMixin, PortalForm):
    timezone = ZoneField(_l("Your time zone"), default="Asia/Seoul")
    submit = SubmitField(_l("Create my account"))


class ResetPasswordForm(PasswordChoiceMixin, PortalForm):
    submit = SubmitField(_l("Set the new password"))


class ForgotPasswordForm(PortalForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Send me a reset link"))


class ChangePasswordForm(PortalForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired()],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})
    # Checked by default: a password changed because it may be known to someone else should end the API
    # tokens made with it too; an integration the user trusts can be kept running.
    revoke_tokens = BooleanField(_l("Also revoke my API tokens"), default=True)
    submit = SubmitField(_l("Change password"))


class PreferencesForm(PortalForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    timezone = ZoneField(_l("Time zone"))
    submit = SubmitField(_l("Save"))


class ConfirmForm(PortalForm):
    """A button that changes state: POST with a CSRF token, nothing else."""
    submit = SubmitField(_l("Confirm"))


class RecoveryCodesForm(PortalForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Make new recovery codes"))

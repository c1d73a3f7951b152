from datetime import datetime

import segno
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.accounts import bp, services
from portal.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    PreferencesForm,
    RecoveryCodesForm,
    ResetPasswordForm,
)
from portal.accounts.models import User
from portal.accounts.passwords import verify_password
from portal.core import audit, clock, policy
from portal.core.exceptions import DomainError, NotFound
from portal.core.forms import refuse
from portal.extensions import db, limiter
from portal.i18n import ngettext
from portal.site.views import safe_next

PENDING = "pending_login"


def load_user(token: str):
    """Flask-Login's loader: the cookie carries a server-side session token."""
    return services.load_session(token)


def _login_rate():
    return current_app.config["LOGIN_RATE_LIMIT"]


# --- Login ---------------------------------------------------------------------------------------------

def _begin_pending(user: User, next_url: str | None) -> None:
    language = session.get("lang")
    session.clear()  # nothing from before the login survives into it ...
    if language:  # ... but the language chosen on the login page, so the code step speaks it too
        session["lang"] = language
    session[PENDING] = {"user_id": user.id, "since": clock.now().isoformat(), "next": next_url}
    if not user.two_factor_enrolled:
        services.start_enrolment(user)  # here, in a POST: the enrolment page itself only reads


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not pending:
        return None
    since = datetime.fromisoformat(pending["since"])
    if clock.now() - since > current_app.config["LOGIN_PENDING_TIMEOUT"]:
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, pending["user_id"])
    if user is None or not user.active or services.is_locked(user):
        session.pop(PENDING, None)
        return None
    return user


def _finish_login(user: User):
    next_url = (session.get(PENDING) or {}).get("next")
    session.clear()
    user_session = services.open_session(user)
    login_user(user)
    session.permanent = True
    current_app.logger.info("user %s logged in (session %s)", user.id, user_session.id)
    return next_url


@bp.route("/login", methods=["GET", "POST"])
@policy.access(policy.LOGIN_FLOW)
@limiter.limit(_login_rate, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.LoginRefused as refused:
            # Not a rollback: the failure and any lockout are recorded with this 200.
            form.form_errors.append(str(refused.message))
        else:
            _begin_pending(user, safe_next(request.args.get("next"), None) if request.args.get("next") else None)
            if not user.two_factor_enrolled:
                return redirect(url_for("accounts.enrol"))
            return redirect(url_for("accounts.second_factor"))
    return render_template("accounts/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@policy.access(policy.LOGIN_FLOW)
@limiter.limit(_login_rate, methods=["POST"])
def second_factor():
    user = _pending_user()
    if user is None:
        flash(_("Please log in again."), "info")
        return redirect(url_for("accounts.login"))
    if not user.two_factor_enrolled:
        return redirect(url_for("accounts.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            method = services.verify_second_factor(user, form.code.data)
        except DomainError as error:
            # Not a rollback: the failure is recorded with this answer.
            form.code.errors = [str(error.message)]
            if services.is_locked(user):
                session.pop(PENDING, None)
                flash(str(services.LOGIN_REFUSED), "error")
                return redirect(url_for("accounts.login"))
        else:
            next_url = _finish_login(user)
            if method == "recovery":
                left = services.recovery_codes_left(user)
                flash(ngettext("You used a recovery code. %(num)s is left.",
                               "You used a recovery code. %(num)s are left.", left),
                      "warning")
            return redirect(safe_next(next_url, url_for("dashboard.home")))
    return render_template("accounts/second_factor.html", form=form)


def _qr_svg_data_uri(uri: str) -> str:
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


@bp.route("/login/enrol", methods=["GET", "POST"])
@policy.access(policy.LOGIN_FLOW)
@limiter.limit(_login_rate, methods=["POST"])
def enrol():
    user = _pending_user()
    if user is None:
        flash(_("Please log in again."), "info")
        return redirect(url_for("accounts.login"))
    if user.two_factor_enrolled:
        return redirect(url_for("accounts.second_factor"))
    secret = services.start_enrolment(user)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = services.confirm_enrolment(user, form.code.data)
        except DomainError as error:
            form.code.errors = [str(error.message)]
        else:
            _finish_login(user)
            # Shown once, in the response to the confirming POST; never stored in plain text.
            return render_template("accounts/recovery_codes.html", codes=codes, first_time=True)
    return render_template("accounts/enrol.html", form=form, secret=secret,
                           qr=_qr_svg_data_uri(services.provisioning_uri(user)))


@bp.post("/logout")
@policy.access(policy.AUTHENTICATED)
def logout():
    user = current_user._get_current_object()
    if user.current_session is not None:
        services.close_session(user.current_session, "logout", by=user)
    audit.record("logout", user)
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


# --- Own account -----------------------------------------------------------------------------------------

@bp.route("/account", methods=["GET", "POST"])
@policy.access("account.manage_own")
def account():
    form = PreferencesForm(obj=current_user)
    if form.validate_on_submit():
        try:
            services.update_preferences(current_user, form.language.data, form.timezone.data)
        except DomainError as error:
            refuse(form, error)
        else:
            flash(_("Your settings are saved."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form,
                           codes_left=services.recovery_codes_left(current_user))


@bp.route("/account/password", methods=["GET", "POST"])
@policy.access("account.manage_own")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data,
                                     revoke_tokens=form.revoke_tokens.data)
        except DomainError as error:
            refuse(form, error)
        else:
            flash(_("Your password is changed. Your other sessions have been ended."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@policy.access("account.manage_own")
def recovery_codes():
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.current_password.data):
            codes = services.regenerate_recovery_codes(current_user)
            return render_template("accounts/recovery_codes.html", codes=codes, first_time=False)
        form.current_password.errors = [_("The current password is incorrect.")]
    return render_template("accounts/recovery_codes_new.html", form=form)


@bp.get("/account/sessions")
@policy.access("account.manage_own")
def sessions():
    return render_template("accounts/sessions.html", sessions=services.open_sessions(current_user),
                           current=current_user.current_session, form=ConfirmForm())


@bp.post("/account/sessions/<int:session_id>/revoke")
@policy.access("account.manage_own")
def revoke_session(session_id: int):
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("accounts.sessions"))
    try:
        services.revoke_own_session(current_user, session_id)
    except NotFound:
        abort(404)
    flash(_("The session has been ended."), "success")
    return redirect(url_for("accounts.sessions"))


@bp.post("/account/sessions/revoke-others")
@policy.access("account.manage_own")
def revoke_other_sessions():
    if ConfirmForm().validate_on_submit():
        count = services.close_sessions(current_user, "revoked_by_user", keep=current_user.current_session,
                                        by=current_user)
        flash(ngettext("%(num)s other session has been ended.", "%(num)s other sessions have been ended.", count),
              "success")
    return redirect(url_for("accounts.sessions"))


# --- Invitations and password reset (no login) -----------------------------------------------------------

@bp.route("/invitation/<token>", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
@limiter.limit(_login_rate, methods=["POST"])
def accept_invitation(token: str):
    try:
        invitation = services.invitation_for(token)
    except NotFound as error:
        return render_template("accounts/link_invalid.html", message=error.message), 404
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, password=form.password.data, timezone=form.timezone.data)
        except DomainError as error:
            refuse(form, error)
        else:
            _begin_pending(user, None)
            flash(_("Your account is created. Now set up two-factor authentication."), "success")
            return redirect(url_for("accounts.enrol"))
    return render_template("accounts/accept_invitation.html", form=form, invitation=invitation)


@bp.route("/password/forgot", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
@limiter.limit("5 per minute;20 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(_("If an account uses this address, a reset link is on its way. It is valid for one hour."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
@limiter.limit(_login_rate, methods=["POST"])
def reset_password(token: str):
    try:
        services.check_reset_token(token)
    except NotFound as error:
        return render_template("accounts/link_invalid.html", message=error.message), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except DomainError as error:
            refuse(form, error)
        else:
            session.clear()
            flash(_("Your password is changed. Log in with it and your verification code."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)

from flask import redirect, render_template, url_for
from flask_login import current_user

from portal.core import policy
from portal.dashboard import bp


@bp.get("/")
@policy.access(policy.PUBLIC)
def index():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    return redirect(url_for("accounts.login"))


@bp.get("/home")
@policy.access("dashboard.view")
def home():
    from portal.reports import dashboards

    return render_template("dashboard/home.html", dashboard=dashboards.for_user(current_user))

from flask import render_template

from portal.admin import bp
from portal.core import policy


@bp.get("/organisations")
@policy.access("organisation.view")
def organisations():
    return render_template("admin/organisations.html")


@bp.get("/users")
@policy.access("user.view")
def users():
    return render_template("admin/users.html")


@bp.get("/audit")
@policy.access("audit.view")
def audit_log():
    return render_template("admin/audit.html")


@bp.get("/outbox")
@policy.access("outbox.view")
def outbox():
    return render_template("admin/outbox.html")

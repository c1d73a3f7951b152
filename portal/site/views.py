from urllib.parse import urlsplit

from flask import current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.core import policy
from portal.extensions import db
from portal.site import bp


@bp.get("/healthz")
@policy.access(policy.PUBLIC)
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure of the database means we are not healthy
        current_app.logger.exception("health check: database unavailable")
        return jsonify(status="unavailable", database="unavailable"), 503
    return jsonify(status="ok", database="ok")


def safe_next(target: str | None, fallback: str) -> str:
    """Only paths on this site: an open redirect would make phishing links look like ours."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@bp.post("/language")
@policy.access(policy.PUBLIC)
def choose_language():
    language = request.form.get("language")
    if language in current_app.config["LANGUAGES"]:
        session["lang"] = language
        if current_user.is_authenticated:
            from portal.accounts.services import set_language

            set_language(current_user, language)
    return redirect(safe_next(request.form.get("next"), url_for("dashboard.home")))

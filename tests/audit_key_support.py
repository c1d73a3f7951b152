"""The audit key for tests that start the portal with PORTAL_ENV=production (which refuses to start
without one): `with_production_audit_key(monkeypatch)` before `create_app`."""

PRODUCTION_AUDIT_KEY = "test-audit-key-" + "0123456789abcdef" * 3


def with_production_audit_key(monkeypatch) -> str:
    """Give the next `create_app` an audit key through the environment, as production configures it."""
    monkeypatch.setenv("PORTAL_AUDIT_KEY", PRODUCTION_AUDIT_KEY)
    monkeypatch.delenv("PORTAL_AUDIT_KEY_FILE", raising=False)
    return PRODUCTION_AUDIT_KEY

"""Issue 10, point 10: settings one machine hides. Rate-limit counters shared by every worker (Redis), and
the client's address taken from X-Forwarded-For only behind a configured number of trusted proxies."""
import os
import uuid

import pytest
from sqlalchemy import select

from portal import create_app
from portal.core.audit import AuditEvent
from portal.extensions import db
from tests.conftest import _config
from tests.production_support import production_config

REDIS_URI = "redis://127.0.0.1:6379/5"


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URI, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("PORTAL_REQUIRE_REDIS") == "1":  # CI: a missing Redis is a failure
            pytest.fail(f"Redis is not reachable at {REDIS_URI}", pytrace=False)
        pytest.skip(f"Redis is not reachable at {REDIS_URI}")


def _worker(app, **settings):
    """Another worker process of the same deployment: its own app on the same database."""
    config = _config(app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path)
    config.update(settings)
    return create_app(config)


def _attempt(application, ip="198.51.100.20"):
    return application.test_client().post("/login", data={"email": "nobody@example.test", "password": "wrong password"},
                                          environ_base={"REMOTE_ADDR": ip})


WORKER = """
import json, sys
from portal import create_app
from tests.conftest import _config
settings = json.loads(sys.argv[1])
app = create_app({**_config(settings.pop("uri"), settings.pop("instance")), **settings})
for _ in range(settings["RATELIMIT_ATTEMPTS"]):
    response = app.test_client().post("/login", data={"email": "nobody@example.test", "password": "wrong password"},
                                      environ_base={"REMOTE_ADDR": "198.51.100.20"})
    print(response.status_code)
"""


def _other_process(app, settings: dict, attempts: int) -> list[int]:
    """Login attempts made by a second worker: another process with its own app (as gunicorn forks)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    payload = {**settings, "uri": app.config["SQLALCHEMY_DATABASE_URI"], "instance": app.instance_path,
               "RATELIMIT_ATTEMPTS": attempts}
    done = subprocess.run([sys.executable, "-c", WORKER, json.dumps(payload)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    return [int(line) for line in done.stdout.split()]


def test_the_per_ip_login_limit_holds_across_two_workers_sharing_redis(app):
    _redis_or_skip()
    shared = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URI, "LOGIN_RATE_LIMIT": "4 per minute",
              "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    here = _worker(app, **shared)
    assert [_attempt(here).status_code for _ in range(2)] == [200, 200]
    # The other worker sees the two attempts made here: two more, then refused.
    assert _other_process(app, shared, 3) == [200, 200, 429]
    # ... and this worker sees the other's.
    assert _attempt(here).status_code == 429
    assert _attempt(here, ip="198.51.100.21").status_code == 200  # per address


def test_production_refuses_memory_counters_unless_allowed(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    config = production_config(_config("sqlite://", tmp_path), RATELIMIT_STORAGE_URI="memory://")
    config.pop("RATELIMIT_ALLOW_MEMORY")
    with pytest.raises(RuntimeError, match="PORTAL_RATELIMIT_STORAGE_URI"):
        create_app(config)
    monkeypatch.setenv("PORTAL_RATELIMIT_ALLOW_MEMORY", "true")
    assert create_app(config).config["RATELIMIT_ALLOW_MEMORY"] is True
    monkeypatch.delenv("PORTAL_RATELIMIT_ALLOW_MEMORY")
    assert create_app({**config, "RATELIMIT_STORAGE_URI": REDIS_URI}).config["RATELIMIT_STORAGE_URI"] == REDIS_URI


def test_the_storage_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_RATELIMIT_STORAGE_URI", REDIS_URI)
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", "2")
    app = create_app(_config("sqlite://", tmp_path))
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URI and app.config["TRUSTED_PROXIES"] == 2


def _audited_ip(application) -> str:
    response = application.test_client().post(
        "/login", data={"email": "nobody@example.test", "password": "wrong password"},
        headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.status_code == 200
    with application.app_context():
        return db.session.scalar(select(AuditEvent.ip).where(AuditEvent.action == "login.failure")
                                 .order_by(AuditEvent.seq.desc()))


def test_behind_one_trusted_proxy_the_audit_log_has_the_clients_address(app):
    assert _audited_ip(_worker(app, RATELIMIT_ENABLED=False, TRUSTED_PROXIES=1)) == "203.0.113.7"


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app):
    assert _audited_ip(app) == "10.0.0.2"


def test_a_bad_proxy_count_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="PORTAL_TRUSTED_PROXIES"):
        create_app({**_config("sqlite://", tmp_path), "TRUSTED_PROXIES": "many"})

"""argon2id parameters come from the configuration: real ones by default and in production, the minimum in
the suite; a hash made with other parameters still lets its user in and is made again at that login."""
import pytest

from tests.production_support import production_config
from argon2 import PasswordHasher, extract_parameters, profiles
from sqlalchemy import select

from portal import create_app
from portal.accounts.models import User
from portal.accounts.passwords import hash_password, needs_rehash, verify_password
from portal.config import Defaults
from portal.extensions import db
from tests.conftest import MINIMUM_HASHING, _config
from tests.factories import PASSWORD

REAL = profiles.RFC_9106_LOW_MEMORY


def _production_app(tmp_path, monkeypatch, **overrides):
    monkeypatch.setenv("PORTAL_ENV", "production")
    return create_app(production_config(_config("sqlite://", tmp_path), **overrides))


def test_default_parameters_are_rfc_9106_low_memory():
    assert (Defaults.PASSWORD_HASH_TIME_COST, Defaults.PASSWORD_HASH_MEMORY_COST,
            Defaults.PASSWORD_HASH_PARALLELISM) == (REAL.time_cost, REAL.memory_cost, REAL.parallelism)


def test_production_hashes_with_the_real_parameters(tmp_path, monkeypatch):
    app = _production_app(tmp_path, monkeypatch)
    with app.app_context():
        made = extract_parameters(hash_password(PASSWORD))
    assert (made.type, made.time_cost, made.memory_cost, made.parallelism) == (
        REAL.type, REAL.time_cost, REAL.memory_cost, REAL.parallelism)


@pytest.mark.parametrize("name", ["PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_COST"])
def test_production_refuses_the_suites_cheap_parameters(tmp_path, monkeypatch, name):
    with pytest.raises(RuntimeError, match=name):
        _production_app(tmp_path, monkeypatch, **{name: MINIMUM_HASHING[name]})


def test_the_suite_hashes_at_the_minimum(app):
    with app.app_context():
        made = extract_parameters(hash_password(PASSWORD))
    assert (made.time_cost, made.memory_cost, made.parallelism) == (1, 8, 1)


def test_a_hash_made_with_other_parameters_still_verifies(app):
    other = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
    with app.app_context():
        assert verify_password(other, PASSWORD) and not verify_password(other, PASSWORD + "x")
        assert needs_rehash(other) and not needs_rehash(hash_password(PASSWORD))


def test_login_makes_again_a_hash_made_with_other_parameters(app, make, auth):
    user = make.user("platform_agent")
    with app.app_context():
        db.session.get(User, user.id).password_hash = PasswordHasher(
            time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
        db.session.commit()
    auth.login(user)
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
        assert not needs_rehash(stored) and verify_password(stored, PASSWORD)
    assert extract_parameters(stored).time_cost == 1

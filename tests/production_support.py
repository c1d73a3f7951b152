"""Settings a production app (PORTAL_ENV=production) refuses to start without, for tests that make one."""
from cryptography.fernet import Fernet

from tests.audit_key_support import PRODUCTION_AUDIT_KEY

# Made once per run: the keys of a test's production app, never used outside it.
PRODUCTION_SETTINGS = {
    "SECRET_KEY": "x" * 64,
    "SECRETS_KEY": Fernet.generate_key().decode(),
    "AUDIT_KEY": PRODUCTION_AUDIT_KEY,
    # A test app is one process; a deployment sets PORTAL_RATELIMIT_STORAGE_URI=redis://... instead.
    "RATELIMIT_ALLOW_MEMORY": True,
}


def production_config(config: dict, **overrides) -> dict:
    """`config` with what production requires (to be used with PORTAL_ENV=production), and the real
    password-hashing parameters instead of the suite's minimum, which production refuses."""
    from tests.conftest import MINIMUM_HASHING

    real = {name: value for name, value in config.items() if name not in MINIMUM_HASHING}
    return {**real, **PRODUCTION_SETTINGS, **overrides}

"""Verification codes: random, printed in the document and behind its QR code; only their SHA-256 is stored.

Crockford's base 32 (no I, L, O or U) so a code read aloud or typed from paper survives.
"""
from __future__ import annotations

import hashlib
import re
import secrets

from portal.core import links

# Crockford's base 32: no I, L, O or U, so a code read aloud or typed from paper survives.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 random bits
_CODE_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_verification_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code: str | None) -> str | None:
    """The code as stored (upper case, no dashes or spaces), or None when it cannot be one."""
    if not code:
        return None
    cleaned = re.sub(r"[\s-]", "", code).upper().translate(_CODE_FIXES)
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        return None
    return cleaned


def code_hash(normalised: str) -> str:
    return hashlib.sha256(f"portal-document-code:{normalised}".encode()).hexdigest()


def verification_url(code: str) -> str:
    """The verification page of `code`, printed (and in the QR code) on the document."""
    return links.absolute("verification.verify_code", code=code)

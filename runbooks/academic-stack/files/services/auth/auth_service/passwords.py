"""Password hashing with scrypt (stdlib): per-user random salt, parameters stored with the hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost: 16 MiB and roughly 50 ms per hash on one core (RFC 7914's interactive-login setting).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MAX_MEMORY = 64 * 1024 * 1024
SCHEME = "scrypt"


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$<salt b64>$<key b64>`, so the cost can be raised later without a migration."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return "$".join((SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)))


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison of the derived key; False for any malformed stored hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(key, validate=True)
        candidate = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p),
                            len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=MAX_MEMORY)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# Checked against when the username is unknown, so a login costs the same whether or not the
# account exists (no user enumeration by timing).
DECOY_HASH = hash_password(secrets.token_urlsafe(16))

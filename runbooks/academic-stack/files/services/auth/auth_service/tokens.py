"""Access tokens: HMAC-signed JWTs with subject, issue time and expiry, as acad-service expects."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt


@dataclass(frozen=True)
class TokenIssuer:
    secret: str
    algorithm: str
    lifetime_seconds: int

    def issue(self, subject: str) -> str:
        now = int(time.time())
        claims = {"sub": subject, "iat": now, "exp": now + self.lifetime_seconds}
        return jwt.encode(claims, self.secret, algorithm=self.algorithm)

"""Bearer-token check for the academic endpoints: a JWT from auth-service, HMAC-signed, unexpired."""

from __future__ import annotations

from dataclasses import dataclass

import jwt


class InvalidToken(Exception):
    """Missing, malformed, forged or expired token; answered with 401."""


@dataclass(frozen=True)
class TokenVerifier:
    secret: str
    algorithm: str

    def subject(self, authorization: str | None) -> str:
        """The token's `sub` claim, from an `Authorization: Bearer <jwt>` header value."""
        if not authorization:
            raise InvalidToken("missing bearer token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("expected an Authorization: Bearer token")
        try:
            claims = jwt.decode(token.strip(), self.secret, algorithms=[self.algorithm],
                                options={"require": ["sub", "exp", "iat"]})
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.InvalidTokenError:
            raise InvalidToken("invalid token") from None
        return str(claims["sub"])

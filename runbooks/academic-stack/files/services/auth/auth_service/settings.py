"""auth-service configuration, read only from environment variables and checked all at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key must be at least as long as the hash


class ConfigError(Exception):
    """The environment does not describe a usable configuration; lists every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class DatabaseSettings:
    host: str
    port: int
    name: str
    user: str
    password: str
    connect_timeout: int

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return (f"DatabaseSettings(host={self.host!r}, port={self.port}, name={self.name!r}, "
                f"user={self.user!r}, password='***', connect_timeout={self.connect_timeout})")


@dataclass(frozen=True, repr=False)
class Settings:
    database: DatabaseSettings
    jwt_secret: str
    jwt_algorithm: str
    jwt_lifetime_minutes: int
    log_level: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        reader = _EnvReader(env)
        database = DatabaseSettings(
            host=reader.text("DB_HOST", default="127.0.0.1"),
            port=reader.integer("DB_PORT", default=5432, low=1, high=65535),
            name=reader.text("DB_NAME"),
            user=reader.text("DB_USER"),
            password=reader.text("DB_PASSWORD"),
            connect_timeout=reader.integer("DB_CONNECT_TIMEOUT", default=3, low=1, high=60),
        )
        secret = reader.text("JWT_SECRET")
        if secret and len(secret.encode()) < MIN_SECRET_BYTES:
            reader.problems.append(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long")
        algorithm = reader.choice("JWT_ALGORITHM", HMAC_ALGORITHMS, default="HS256")
        lifetime = reader.integer("JWT_EXPIRES_MINUTES", default=60, low=1, high=24 * 60)
        log_level = reader.choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), default="INFO")
        if reader.problems:
            raise ConfigError(reader.problems)
        return cls(database=database, jwt_secret=secret, jwt_algorithm=algorithm,
                   jwt_lifetime_minutes=lifetime, log_level=log_level)


class _EnvReader:
    """Reads typed values and collects problems instead of stopping at the first one."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str, default: str | None = None) -> str:
        value = self.env.get(name, "").strip()
        if value:
            return value
        if default is None:
            self.problems.append(f"{name} is not set")
            return ""
        return default

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            self.problems.append(f"{name} must be an integer from {low} to {high}, got {raw!r}")
            return default
        return int(raw)

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.env.get(name, "").strip() or default
        if value not in allowed:
            self.problems.append(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
            return default
        return value

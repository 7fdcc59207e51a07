"""uvicorn entry point (`uvicorn acad_service.main:app`): settings from the environment, or exit."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

from .api import SERVICE, create_app
from .logs import setup_logging
from .settings import ConfigError, Settings


def app_from_environment() -> FastAPI:
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as exc:
        setup_logging(SERVICE, "INFO")
        logging.getLogger("acad_service").critical("configuration error, not starting",
                                                   extra={"problems": exc.problems})
        raise SystemExit(f"{SERVICE}: configuration error: {exc}") from None
    setup_logging(SERVICE, settings.log_level)
    return create_app(settings)


app = app_from_environment()

"""One settings object for the whole process, read from the environment.

Secrets have no usable defaults: in production a missing or placeholder
``BARAZA_DATA_KEY`` stops the process at start, while development generates a key
into ``var/`` and says so, so that ``make run`` works on a fresh clone.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///./var/baraza.db"
PLACEHOLDER_KEYS = {"", "changeme", "change-me", "secret", "placeholder"}


class Environment(StrEnum):
    development = "development"
    production = "production"
    test = "test"


class SettingsError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Environment = Field(Environment.development, alias="BARAZA_ENV")
    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    data_key: str = Field("", alias="BARAZA_DATA_KEY")
    var_dir: Path = Field(Path("var"), alias="BARAZA_VAR_DIR")
    tick_seconds: float = Field(15.0, alias="BARAZA_TICK_SECONDS", gt=0)
    session_idle_minutes: int = Field(30, alias="BARAZA_SESSION_IDLE_MINUTES", gt=0)
    flows_dir: Path | None = Field(None, alias="BARAZA_FLOWS_DIR")
    locales_dir: Path | None = Field(None, alias="BARAZA_LOCALES_DIR")
    sender_poll_seconds: float = Field(1.0, alias="BARAZA_SENDER_POLL_SECONDS", gt=0)
    send_max_attempts: int = Field(8, alias="BARAZA_SEND_MAX_ATTEMPTS", gt=0)
    public_base_url: str | None = Field(None, alias="PUBLIC_BASE_URL")
    telegram_bot_token: str | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: str | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_url: str = Field("https://api.telegram.org", alias="TELEGRAM_API_URL")
    twilio_account_sid: str | None = Field(None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = Field(None, alias="TWILIO_AUTH_TOKEN")
    twilio_sms_from: str | None = Field(None, alias="TWILIO_SMS_FROM")
    twilio_whatsapp_from: str | None = Field(None, alias="TWILIO_WHATSAPP_FROM")
    twilio_api_url: str = Field("https://api.twilio.com", alias="TWILIO_API_URL")
    # Messages per second per sending number: 1 for an SMS long code; WhatsApp more.
    twilio_sms_rate: float = Field(1.0, alias="TWILIO_SMS_RATE", gt=0, le=1000)
    twilio_whatsapp_rate: float = Field(20.0, alias="TWILIO_WHATSAPP_RATE", gt=0, le=1000)
    sms_gsm7_only: bool = Field(False, alias="BARAZA_SMS_GSM7_ONLY")
    # Behind a proxy without PUBLIC_BASE_URL: rebuild the URL Twilio signed from
    # X-Forwarded-Proto/-Host. Only when the proxy sets them; a client could forge them.
    trust_forwarded: bool = Field(False, alias="BARAZA_TRUST_FORWARDED")

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value):
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET must be 16 to 256 of A-Z, a-z, 0-9, _ and - "
                "(Telegram's rule; 16 is ours)"
            )
        return value or None

    @property
    def key_file(self) -> Path:
        return self.var_dir / "data.key"

    def resolve_data_key(self) -> bytes:
        """Return the 32 raw bytes of the data key, generating one in development."""
        raw = self.data_key.strip()
        if raw.lower() in PLACEHOLDER_KEYS:
            if self.environment is Environment.production:
                raise SettingsError(
                    "BARAZA_DATA_KEY is required in production: run `baraza keys generate` "
                    "and keep the key in your secret store."
                )
            raw = self._development_key()
        return decode_key(raw)

    def _development_key(self) -> str:
        if self.key_file.exists():
            return self.key_file.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = generate_key()
        descriptor = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:  # private from the first byte
            handle.write(key + "\n")
        log.warning(
            "BARAZA_DATA_KEY is not set: generated a development key in %s. "
            "Set BARAZA_DATA_KEY in production; without the key the data cannot be read.",
            self.key_file,
        )
        return key


def generate_key() -> str:
    """A fresh data key in the form BARAZA_DATA_KEY takes (URL-safe base64, 32 bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def decode_key(raw: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4))
    except (ValueError, TypeError) as exc:
        raise SettingsError("BARAZA_DATA_KEY is not URL-safe base64") from exc
    if len(key) != 32:
        raise SettingsError(
            f"BARAZA_DATA_KEY must decode to 32 bytes, not {len(key)}: use `baraza keys generate`."
        )
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

"""One settings object for the whole process, read from the environment.

Secrets have no usable defaults: in production a missing or placeholder
``BARAZA_DATA_KEY`` stops the process at start, while development generates a key
into ``var/`` and says so, so that ``make run`` works on a fresh clone. Keys that
were rotated out still open old data: ``BARAZA_PREVIOUS_DATA_KEYS``, or in
development the ``var/`` file that ``baraza keys rotate`` keeps them in.
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
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///./var/baraza.db"
PLACEHOLDER_KEYS = {"", "changeme", "change-me", "secret", "placeholder"}


class Environment(StrEnum):
    development = "development"
    production = "production"
    test = "test"


QUIET_HOURS = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"


class SettingsError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Environment = Field(Environment.development, alias="BARAZA_ENV")
    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    data_key: str = Field("", alias="BARAZA_DATA_KEY")
    # Comma-separated keys rotated out: they open what they sealed, never seal.
    previous_data_keys: str = Field("", alias="BARAZA_PREVIOUS_DATA_KEYS")
    var_dir: Path = Field(Path("var"), alias="BARAZA_VAR_DIR")
    tick_seconds: float = Field(15.0, alias="BARAZA_TICK_SECONDS", gt=0)
    # Local hours when nothing but urgent news goes out; an area may set its own.
    quiet_hours: str = Field("21:00-07:00", alias="BARAZA_QUIET_HOURS", pattern=QUIET_HOURS)
    # Meeting reminders, in minutes before the start (a meeting may set its own).
    reminder_minutes: str = Field(
        "1440,120", alias="BARAZA_REMINDER_MINUTES", pattern=r"^\d+(,\d+)*$"
    )
    session_idle_minutes: int = Field(30, alias="BARAZA_SESSION_IDLE_MINUTES", gt=0)
    flows_dir: Path | None = Field(None, alias="BARAZA_FLOWS_DIR")
    locales_dir: Path | None = Field(None, alias="BARAZA_LOCALES_DIR")
    # A claim (an outbox row being sent, a dispatch being queued) not renewed for this
    # long is taken to be from a process that died, and taken over.
    claim_timeout_seconds: float = Field(300.0, alias="BARAZA_CLAIM_TIMEOUT_SECONDS", gt=0)
    sender_poll_seconds: float = Field(1.0, alias="BARAZA_SENDER_POLL_SECONDS", gt=0)
    send_max_attempts: int = Field(8, alias="BARAZA_SEND_MAX_ATTEMPTS", gt=0)
    # While a provider is down, one message probes it at most this many seconds apart.
    outage_probe_seconds: float = Field(60.0, alias="BARAZA_OUTAGE_PROBE_SECONDS", gt=0)
    # Optional: providers' rate limits shared through Redis rather than PostgreSQL.
    redis_url: str | None = Field(None, alias="REDIS_URL")
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
    # Days after a protection case is closed before its words are erased (counts stay).
    protection_retention_days: int = Field(90, alias="BARAZA_PROTECTION_RETENTION_DAYS", gt=0)
    # Hostile input and operations (bot.bodylimit, bot.floodgate, bot.logs, bot.metrics).
    max_body_bytes: int = Field(256 * 1024, alias="BARAZA_MAX_BODY_BYTES", ge=4096)
    inbound_per_minute: int = Field(20, alias="BARAZA_INBOUND_PER_MINUTE", gt=0)
    log_format: Literal["text", "json"] = Field("text", alias="BARAZA_LOG_FORMAT")
    metrics_token: str | None = Field(None, alias="BARAZA_METRICS_TOKEN")
    # How long a request waits for the database (a connection, a statement) before the
    # webhook answers 503 and the provider retries.
    db_timeout_seconds: float = Field(10.0, alias="BARAZA_DB_TIMEOUT_SECONDS", gt=0)

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("previous_data_keys")
    @classmethod
    def _previous_keys(cls, value: str) -> str:
        for raw in _listed(value):  # a bad one stops the process at start, not at first read
            try:
                decode_key(raw, "each of BARAZA_PREVIOUS_DATA_KEYS")
            except SettingsError as exc:
                raise ValueError(str(exc)) from exc
        return value

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

    @property
    def previous_keys_file(self) -> Path:
        return self.var_dir / "previous-data.keys"

    @property
    def key_in_var(self) -> bool:
        """Whether the data key is the development one kept in ``var/``, not the environment."""
        return self.data_key.strip().lower() in PLACEHOLDER_KEYS

    def resolve_data_key(self) -> bytes:
        """Return the 32 raw bytes of the data key, generating one in development."""
        raw = self.data_key.strip()
        if self.key_in_var:
            if self.environment is Environment.production:
                raise SettingsError(
                    "BARAZA_DATA_KEY is required in production: run `baraza keys generate` "
                    "and keep the key in your secret store."
                )
            raw = self._development_key()
        return decode_key(raw)

    def resolve_previous_keys(self) -> list[bytes]:
        """The keys rotated out, newest first: from the environment, and in development
        (key kept in ``var/``) from the file ``baraza keys rotate`` keeps them in."""
        keys = [decode_key(raw) for raw in _listed(self.previous_data_keys)]
        if self.key_in_var and self.previous_keys_file.exists():
            lines = self.previous_keys_file.read_text().split()
            keys += [decode_key(raw, str(self.previous_keys_file)) for raw in lines]
        return list(dict.fromkeys(keys))

    def keep_rotated_development_key(self, new: str, old: str) -> None:
        """After ``baraza keys rotate`` in development: the new key goes into the key
        file, the old one to the front of the previous-keys file (backups need it)."""
        kept = (
            self.previous_keys_file.read_text().split() if self.previous_keys_file.exists() else []
        )
        _write_private(self.previous_keys_file, [old, *(k for k in kept if k != old)])
        _write_private(self.key_file, [new])

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
    return encode_key(secrets.token_bytes(32))


def encode_key(key: bytes) -> str:
    """The form BARAZA_DATA_KEY takes, of 32 raw bytes."""
    return base64.urlsafe_b64encode(key).decode()


def decode_key(raw: str, name: str = "BARAZA_DATA_KEY") -> bytes:
    try:
        key = base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4))
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"{name} is not URL-safe base64") from exc
    if len(key) != 32:
        raise SettingsError(
            f"{name} must decode to 32 bytes, not {len(key)}: use `baraza keys generate`."
        )
    return key


def _listed(keys: str) -> list[str]:
    return [part.strip() for part in keys.split(",") if part.strip()]


def _write_private(path: Path, lines: list[str]) -> None:
    """Replace ``path`` at once (a crash leaves the old file or the new, never half)
    with a file only its owner can read, from its first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("".join(f"{line}\n" for line in lines))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

"""The checks ``baraza doctor`` makes without the network: settings and secrets, the
data key, the public URL, the compiled catalogs and the flows."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from bot.doctor.checks import Check, fail, ok, warn
from bot.flowcheck import check_flows
from bot.i18n import default_locales_dir
from bot.settings import PLACEHOLDER_KEYS, Environment, Settings, SettingsError, decode_key

KEY_FIX = (
    "run `baraza keys generate`, keep the key in your secret store (apart from the "
    "database backups) and set BARAZA_DATA_KEY to it"
)
WEAK_PASSWORDS = PLACEHOLDER_KEYS | {"baraza", "postgres", "password", "admin"}


def setting_checks(settings: Settings) -> list[Check]:
    production = settings.environment is Environment.production
    checks = [
        ok("settings", f"loaded; BARAZA_ENV is {settings.environment.value}"),
        _data_key(settings, production),
        _public_url(settings, production),
        _channels(settings, production),
    ]
    checks += _secrets(settings, production)
    if production and make_url(settings.database_url).get_backend_name() == "sqlite":
        checks.append(
            warn(
                "database engine",
                "SQLite serves one process on one machine, with no online backup",
                "use PostgreSQL in production (DATABASE_URL=postgresql://...; docker/compose.yaml)",
            )
        )
    return checks


def _data_key(settings: Settings, production: bool) -> Check:
    name = "data key"
    if settings.key_in_var:
        if production:
            return fail(name, "BARAZA_DATA_KEY is not set (or is a placeholder)", KEY_FIX)
        if not settings.key_file.exists():
            return warn(
                name,
                f"none yet: development generates one into {settings.key_file} at first start",
                KEY_FIX + " before going to production",
            )
        try:
            decode_key(settings.key_file.read_text().strip(), str(settings.key_file))
        except SettingsError as exc:
            return fail(name, str(exc), f"restore the right key into {settings.key_file}")
        if _beside_database(settings.key_file, settings.database_url):
            return warn(
                name,
                f"the development key {settings.key_file} sits in the same folder as the "
                "database: one copy of that folder holds the data and the key that opens it",
                KEY_FIX,
            )
        return warn(name, f"the development key in {settings.key_file} is used", KEY_FIX)
    try:
        decode_key(settings.data_key.strip())
    except SettingsError as exc:
        return fail(name, str(exc), KEY_FIX)
    rotated = settings.resolve_previous_keys()
    extra = f", and {len(rotated)} rotated-out key(s) for older data" if rotated else ""
    return ok(name, f"BARAZA_DATA_KEY is a valid key{extra}")


def _beside_database(key_file: Path, database_url: str) -> bool:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return False
    return Path(url.database).resolve().parent == key_file.resolve().parent


def _public_url(settings: Settings, production: bool) -> Check:
    name = "public URL"
    url = settings.public_base_url
    channels = bool(settings.telegram_bot_token or settings.twilio_account_sid)
    if not url:
        if production and channels:
            return fail(
                name,
                "PUBLIC_BASE_URL is not set: Twilio's signatures cannot be checked and "
                "Telegram cannot deliver to the webhook",
                "set PUBLIC_BASE_URL to this server's https address, e.g. https://bot.example.org",
            )
        return ok(name, "PUBLIC_BASE_URL is not set (Telegram is polled; fine for one process)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return fail(name, f"PUBLIC_BASE_URL {url!r} is not a URL", "write it as https://host")
    if parts.path or parts.query:
        return fail(
            name,
            f"PUBLIC_BASE_URL {url} has a path; the webhooks are at its root",
            f"set it to {parts.scheme}://{parts.netloc}",
        )
    if parts.scheme != "https":
        if production:
            return fail(
                name,
                f"PUBLIC_BASE_URL {url} is not https: Telegram refuses plain-http webhooks "
                "and reports would cross the network unencrypted",
                "serve the app behind TLS (docker/compose.yaml's Caddy does) and use https://",
            )
        return warn(name, f"{url} is plain http (fine for a local try only)", "use https://")
    return ok(name, f"{url}")


def _channels(settings: Settings, production: bool) -> Check:
    names = []
    if settings.telegram_bot_token:
        names.append("Telegram")
    if settings.twilio_account_sid and settings.twilio_auth_token:
        names += [
            label
            for label, sender in (
                ("SMS", settings.twilio_sms_from),
                ("WhatsApp", settings.twilio_whatsapp_from),
            )
            if sender
        ]
    if names:
        return ok("channels", ", ".join(names))
    problem = "no channel is set up: nobody can reach the bot"
    fix = "set TELEGRAM_BOT_TOKEN, or the TWILIO_* account and a sender (README)"
    return fail("channels", problem, fix) if production else warn("channels", problem, fix)


def _secrets(settings: Settings, production: bool) -> list[Check]:
    checks = []
    for variable, value in (
        ("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token),
        ("TELEGRAM_WEBHOOK_SECRET", settings.telegram_webhook_secret),
        ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
    ):
        if value is not None and value.strip().lower() in PLACEHOLDER_KEYS:
            checks.append(
                fail("secrets", f"{variable} is a placeholder", f"set the real {variable}")
            )
    if (
        settings.telegram_bot_token
        and settings.public_base_url
        and not settings.telegram_webhook_secret
    ):
        checks.append(
            fail(
                "secrets",
                "TELEGRAM_WEBHOOK_SECRET is not set: the Telegram webhook refuses every update",
                "set it to a random string of 16 to 256 of A-Z a-z 0-9 _ - "
                "(e.g. `openssl rand -hex 32`)",
            )
        )
    if production and not settings.metrics_token:
        checks.append(
            warn(
                "secrets",
                "BARAZA_METRICS_TOKEN is not set: anyone who reaches the server can read /metrics",
                "set it, and give Prometheus the same value as its bearer token",
            )
        )
    password = make_url(settings.database_url).password
    if production and password is not None and str(password).lower() in WEAK_PASSWORDS:
        checks.append(
            warn(
                "secrets",
                "the database password in DATABASE_URL is a well-known one",
                "give the database role a long random password (POSTGRES_PASSWORD in docker/.env)",
            )
        )
    return checks


def catalog_checks(settings: Settings, languages: list[str] | None) -> list[Check]:
    """Every deployment language (every catalog found, when none is imported) has a
    compiled catalog the app can load."""
    directory = settings.locales_dir or default_locales_dir()
    found = sorted(p.parent.parent.name for p in directory.glob("*/LC_MESSAGES/messages.po"))
    wanted = languages if languages is not None else found
    missing = [
        language
        for language in wanted
        if not (directory / language / "LC_MESSAGES" / "messages.mo").is_file()
    ]
    if missing:
        return [
            fail(
                "catalogs",
                f"no compiled catalog for {', '.join(missing)} in {directory}: people "
                "writing in it would read English or message ids",
                "compile them with `pybabel compile -d locales -D messages` (`make i18n`), "
                "or rebuild the image",
            )
        ]
    return [ok("catalogs", f"compiled for {', '.join(wanted) or 'no language'}")]


def flow_checks(settings: Settings) -> list[Check]:
    problems = check_flows(settings)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return [
            fail(
                "flows",
                f"{problems[0]}{more}",
                "run `baraza flows check` for the whole list and mend the flow or catalog",
            )
        ]
    return [ok("flows", "valid, translated and drawn")]

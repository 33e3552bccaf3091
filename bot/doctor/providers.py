"""The provider checks of ``baraza doctor``: the Telegram token and webhook, the
Twilio account and senders, asked of the same API roots the app sends through
(TELEGRAM_API_URL, TWILIO_API_URL) with the same clients; and Redis, when the rate
limits are shared through it."""

from __future__ import annotations

import asyncio
import re

import redis.asyncio as redis
from telegram.error import InvalidToken, NetworkError, TelegramError
from twilio.base.exceptions import TwilioException, TwilioRestException

from bot.doctor.checks import Check, fail, ok, warn
from bot.settings import Environment, Settings
from channels import telegram, twilio

ANSWER_SECONDS = 20.0
E164 = re.compile(r"\+[1-9]\d{6,14}")


async def telegram_checks(settings: Settings) -> list[Check]:
    token, root = settings.telegram_bot_token, settings.telegram_api_url
    if not token:
        return [ok("telegram", "not set up (TELEGRAM_BOT_TOKEN is empty)")]
    client = telegram.make_client(token, root, connections=1)
    try:
        try:
            async with asyncio.timeout(ANSWER_SECONDS):
                me = await client.bot.get_me()
                info = await client.bot.get_webhook_info()
        except InvalidToken:
            return [
                fail(
                    "telegram token",
                    f"{root} refused TELEGRAM_BOT_TOKEN (Unauthorized)",
                    "copy the bot's token from @BotFather (/mybots, API Token) into "
                    "TELEGRAM_BOT_TOKEN",
                )
            ]
        except (NetworkError, TimeoutError) as exc:
            return [
                fail(
                    "telegram",
                    f"cannot reach {root}: {exc or 'no answer'}",
                    "check this machine's outbound network (firewall, proxy) and TELEGRAM_API_URL",
                )
            ]
        except TelegramError as exc:
            return [fail("telegram", f"{root} answered: {exc}", "see `baraza telegram info`")]
    finally:
        await client.close()
    return [ok("telegram token", f"the bot is @{me.username}"), _webhook(settings, info)]


def _webhook(settings: Settings, info: object) -> Check:
    url = getattr(info, "url", "") or ""
    base = settings.public_base_url
    name = "telegram webhook"
    set_it = "run `baraza telegram set-webhook` (`baraza serve` also sets it at start)"
    if base is None:
        if url:
            return fail(
                name,
                f"set to {url}, but PUBLIC_BASE_URL is empty so the app polls, and Telegram "
                "refuses polling while a webhook is set",
                f"set PUBLIC_BASE_URL to the root of {url}",
            )
        production = settings.environment is Environment.production
        says = "none: updates are polled, which suits one process only"
        fix = "set PUBLIC_BASE_URL (https) so Telegram delivers to the webhook"
        return warn(name, says, fix) if production else ok(name, says)
    expected = f"{base}/webhooks/telegram"
    if url != expected:
        return fail(name, f"points at {url or 'nothing'}, not {expected}", set_it)
    error = getattr(info, "last_error_message", None)
    if error:
        return warn(
            name,
            f"{expected}, but Telegram's last delivery failed: {error}",
            "check that PUBLIC_BASE_URL reaches this server from the internet (DNS, "
            "proxy, TLS certificate)",
        )
    pending = getattr(info, "pending_update_count", 0)
    return ok(name, f"{expected} ({pending} update(s) waiting)")


async def twilio_checks(settings: Settings) -> list[Check]:
    sid, token, root = (
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_api_url,
    )
    if not sid and not token:
        return [ok("twilio", "not set up (TWILIO_ACCOUNT_SID is empty)")]
    if not sid or not token:
        return [
            fail(
                "twilio",
                "only one of TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN is set",
                "set both, from the Twilio console's Account Info",
            )
        ]
    client = twilio.make_client(sid, token, root)
    try:
        account = await asyncio.wait_for(
            client.api.v2010.accounts(sid).fetch_async(), ANSWER_SECONDS
        )
    except TwilioRestException as exc:
        if exc.status in (401, 403, 404):
            return [
                fail(
                    "twilio account",
                    f"{root} refused TWILIO_ACCOUNT_SID {sid} with TWILIO_AUTH_TOKEN "
                    f"({exc.status})",
                    "copy the Account SID and Auth Token from the Twilio console's Account Info",
                )
            ]
        return [fail("twilio account", f"{root} answered {exc.status}: {exc.msg}", "retry later")]
    except (TwilioException, *twilio.UNREACHABLE, OSError, TimeoutError) as exc:
        return [
            fail(
                "twilio",
                f"cannot reach {root}: {exc or 'no answer'}",
                "check this machine's outbound network (firewall, proxy) and TWILIO_API_URL",
            )
        ]
    finally:
        await twilio.close_client(client)
    checks = []
    if account.status != "active":
        checks.append(
            fail(
                "twilio account",
                f"{account.friendly_name} is {account.status}: nothing can be sent",
                "reactivate it in the Twilio console",
            )
        )
    else:
        checks.append(ok("twilio account", f"{account.friendly_name} is active"))
    return checks + _senders(settings)


def _senders(settings: Settings) -> list[Check]:
    sms, whatsapp = settings.twilio_sms_from, settings.twilio_whatsapp_from
    checks = []
    if sms and not E164.fullmatch(sms):
        checks.append(
            fail("twilio senders", f"TWILIO_SMS_FROM {sms} is not a number", "write it +254...")
        )
    if whatsapp and not (whatsapp.startswith("whatsapp:") and E164.fullmatch(whatsapp[9:])):
        checks.append(
            fail(
                "twilio senders",
                f"TWILIO_WHATSAPP_FROM {whatsapp} is not a WhatsApp address",
                "write it whatsapp:+14155238886",
            )
        )
    if not sms and not whatsapp:
        checks.append(
            warn(
                "twilio senders",
                "neither TWILIO_SMS_FROM nor TWILIO_WHATSAPP_FROM is set: Twilio sends nothing",
                "set the number (or WhatsApp sender) people write to",
            )
        )
    return checks or [ok("twilio senders", ", ".join(s for s in (sms, whatsapp) if s))]


async def redis_checks(url: str | None) -> list[Check]:
    """Redis, when REDIS_URL names one: the providers' rate limits are shared through it,
    so every replica must reach it."""
    if not url:
        return []
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    shown = re.sub(r"//[^@/]*@", "//***@", url)
    try:
        async with asyncio.timeout(ANSWER_SECONDS):
            await client.ping()
    except (redis.RedisError, OSError, TimeoutError) as exc:
        return [
            fail(
                "redis",
                f"cannot reach {shown}: {exc or 'no answer'}",
                "start Redis (COMPOSE_PROFILES=redis) or correct REDIS_URL; without it the "
                "replicas cannot share the providers' rate limits",
            )
        ]
    finally:
        await client.aclose()
    return [ok("redis", f"answers at {shown}")]

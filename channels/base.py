"""The one small interface every channel implements, and the send errors they share.

A channel parses what its provider sends into ``InboundMessage`` and sends an
``OutboundMessage`` to an address. What differs between channels is data
(``Capabilities``); choices fall back to a numbered text menu on channels
without buttons, so a simple channel implements ``deliver`` and nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.messages import OutboundMessage
from bot.urns import URN


class SendError(Exception):
    """A message could not be delivered; subclasses say what the sender should do."""

    retry: bool = True


class ConnectionFailed(SendError):
    """The provider could not be reached or failed (5xx, timeout): retry later."""


class Throttled(SendError):
    """The provider asked us to slow down: retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, detail: str = "throttled") -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ContactStopped(SendError):
    """The person blocked the bot or unsubscribed: never send to them again."""

    retry = False


class Held(SendError):
    """The provider will not take this message now, and retrying will not change that
    (WhatsApp's 24-hour window has closed): keep it, marked held with the reason."""

    retry = False


class PermanentFailure(SendError):
    """The provider refused this message for good (bad address, bad content)."""

    retry = False


@dataclass(frozen=True)
class Capabilities:
    buttons: bool = False
    max_text: int = 4096
    # Can take back messages already delivered (Telegram, for 48 hours): a quick exit
    # from the protection flow erases the conversation where this is true.
    erase: bool = False


ERASE = "erase"  # an OutboundMessage whose meta["erase"] lists provider message ids


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None = None
    segments: int | None = None  # what an SMS cost, in segments


@dataclass(frozen=True)
class Template:
    """A provider-approved message (WhatsApp's Content templates) and how to fill it:
    ``variables`` maps each placeholder ("1", "2" ...) to a field of the message, "text"
    for its whole text or a key of its ``meta``."""

    content_sid: str
    variables: Mapping[str, str] = field(default_factory=dict)

    def values(self, message: OutboundMessage) -> dict[str, str]:
        fields = {**{k: str(v) for k, v in message.meta.items()}, "text": message.text}
        return {slot: fields.get(name, "") for slot, name in self.variables.items()}


@dataclass(frozen=True)
class ChannelTemplates:
    """What a deployment configured for one channel: templates per message kind and
    language, and quick-reply menus by their number of buttons."""

    by_kind: Mapping[tuple[str, str], Template] = field(default_factory=dict)
    menus: Mapping[int, str] = field(default_factory=dict)

    def for_kind(self, kind: str, language: str) -> Template | None:
        return self.by_kind.get((kind, language))


NO_TEMPLATES = ChannelTemplates()


@dataclass(frozen=True)
class Envelope:
    """What the sender knows about a message beyond its content, for channels whose
    rules depend on it (WhatsApp's 24-hour window): why it is sent, when the person
    last wrote (``tracked`` False for staff and group addresses, where nobody knows),
    and the deployment's templates for the channel."""

    kind: str = "reply"
    last_inbound_at: datetime | None = None
    tracked: bool = False
    templates: ChannelTemplates = NO_TEMPLATES


DIRECT = Envelope()

# A choice travels as its number where its value cannot ("#2"): Telegram's 64-byte
# callback data, WhatsApp quick-reply ids fixed in a template. Every step reads it.
POSITION_PREFIX = "#"


def read_button(data: str) -> tuple[str, str | None]:
    """Inbound button data as (text, button): a position reads as the typed number."""
    if data.startswith(POSITION_PREFIX):
        return data.removeprefix(POSITION_PREFIX), None
    return "", data


def numbered_menu(message: OutboundMessage) -> str:
    """The text form of a message with choices: "1 Report a concern" per line."""
    if not message.choices:
        return message.text
    lines = [f"{number} {choice.label}" for number, choice in enumerate(message.choices, 1)]
    return message.text + "\n\n" + "\n".join(lines)


def split_text(text: str, limit: int) -> list[str]:
    """Cut a text into parts of at most ``limit`` characters, at line breaks where it can.

    A paragraph is never cut mid-line unless one line alone is longer than the
    limit; then it is cut at the last space, and only a word longer than the limit
    is cut where it stands.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            parts.append(line[:cut])
            line = line[cut:].lstrip(" ")
        current = line
    if current:
        parts.append(current)
    return parts


class Channel(ABC):
    name: str
    capabilities: Capabilities = Capabilities()

    def render(self, message: OutboundMessage) -> str:
        return message.text if self.capabilities.buttons else numbered_menu(message)

    @abstractmethod
    async def deliver(
        self, urn: URN, message: OutboundMessage, envelope: Envelope = DIRECT
    ) -> SendResult:
        """Send one message; raise a ``SendError`` subclass on failure."""

"""The two shapes every channel speaks: one message in, one message out.

Channels translate provider payloads into ``InboundMessage`` at the edge and
``OutboundMessage`` into provider calls at the other end; nothing between them
knows which provider is on the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

MediaKind = Literal["image", "audio", "video", "document", "sticker", "other"]


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ValueError("location out of range")


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    urn: str
    provider_id: str
    text: str = ""
    button: str | None = None
    location: Location | None = None
    media: MediaKind | None = None
    # A channel's own command (Telegram's /menu, /stop, /announce ...), already parsed:
    # commands mean the same in every language, so they skip keyword matching.
    command: str | None = None
    edited: bool = False  # a correction of an earlier message, which is not re-read
    # The provider's id of the person's message in their chat (Telegram's message_id),
    # kept only inside a sensitive flow, to erase it on a quick exit.
    message_ref: str | None = None


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class OutboundMessage:
    text: str
    choices: tuple[Choice, ...] = ()
    language: str = "en"
    rtl: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "text": self.text,
                "choices": [[c.value, c.label] for c in self.choices],
                "language": self.language,
                "meta": self.meta,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> OutboundMessage:
        data = json.loads(raw)
        return cls(
            text=data["text"],
            choices=tuple(Choice(value, label) for value, label in data.get("choices", [])),
            language=data.get("language", "en"),
            meta=data.get("meta", {}),
        )

"""What the engine needs from the world, as small typed interfaces.

The engine knows flows, not databases or providers: it asks these ports for the
options of a dynamic menu, for the area a person named, for keyword meanings and
for the result of an action. Production wires them to the database
(``bot.runtime``); tests may wire them to anything honest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.i18n import Catalogs
from bot.messages import Choice, Location

Keyword = Literal["menu", "back", "help", "language", "stop", "start"]


@dataclass(frozen=True)
class AreaCandidate:
    key: str
    label: str


@dataclass(frozen=True)
class AreaMatch:
    candidates: tuple[AreaCandidate, ...]

    @property
    def unique(self) -> AreaCandidate | None:
        return self.candidates[0] if len(self.candidates) == 1 else None


@dataclass
class Turn:
    """One inbound message as the engine sees it, plus who sent it."""

    contact_id: int
    language: str | None
    language_detected: bool = False  # guessed from an earlier message, not chosen
    text: str = ""
    button: str | None = None
    location: Location | None = None
    media: str | None = None
    keyword: Keyword | None = None  # decided by the caller (a channel command, say)
    edited: bool = False


@dataclass(frozen=True)
class ActionResult:
    outcome: str = "ok"
    vars: dict[str, Any] = field(default_factory=dict)
    language: str | None = None


class Ports(Protocol):
    catalogs: Catalogs

    @property
    def languages(self) -> list[str]: ...

    @property
    def default_language(self) -> str: ...

    def keyword(self, text: str) -> Keyword | None: ...

    def detect_language(self, text: str) -> str | None:
        """The language a first message is confidently in, else None (ask)."""
        ...

    def options(self, source: str, language: str) -> list[Choice]: ...

    def match_area(self, text: str, language: str) -> AreaMatch: ...

    def nearest_area(self, location: Location, language: str) -> AreaCandidate | None: ...

    async def run_action(self, name: str, turn: Turn, vars: dict[str, Any]) -> ActionResult: ...

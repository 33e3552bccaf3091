"""Wiring the flow engine to the database for one process and one turn.

``Runtime`` holds what a process loads once (flows, catalogs, the directory
cache); ``TurnPorts`` gives the engine what it asks for during one message,
backed by that runtime and the turn's database session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import ACTIONS, ActionContext
from bot.areas import AreaIndex
from bot.contacts import ContactRecord
from bot.directory import Directory, DirectoryCache
from bot.i18n import Catalogs, load_catalogs, msg
from bot.i18n.detect import LanguageDetector, load_profiles
from bot.keywords import KeywordMatcher
from bot.messages import Choice, Location
from bot.text import fold
from flows.loader import FlowSet, load_flows
from flows.ports import ActionResult, AreaCandidate, AreaMatch, Keyword, Turn


@dataclass
class Runtime:
    flows: FlowSet
    catalogs: Catalogs
    session_idle_minutes: int = 30
    inbound_per_minute: int = 20  # bot.floodgate
    directories: DirectoryCache = field(default_factory=DirectoryCache)
    _indexes: dict[int, tuple[AreaIndex, KeywordMatcher, LanguageDetector]] = field(
        default_factory=dict
    )

    @classmethod
    def load(
        cls,
        flows_dir: Path | None = None,
        locales_dir: Path | None = None,
        session_idle_minutes: int = 30,
        inbound_per_minute: int = 20,
    ) -> Runtime:
        load_profiles()
        return cls(
            flows=load_flows(flows_dir, known_actions=ACTIONS),
            catalogs=load_catalogs(locales_dir),
            session_idle_minutes=session_idle_minutes,
            inbound_per_minute=inbound_per_minute,
        )

    def indexes(self, directory: Directory) -> tuple[AreaIndex, KeywordMatcher, LanguageDetector]:
        found = self._indexes.get(directory.revision)
        if found is None or found[0].directory is not directory:
            found = (
                AreaIndex(directory),
                KeywordMatcher(self.catalogs, directory.languages),
                LanguageDetector(directory.languages),
            )
            self._indexes = {directory.revision: found}
        return found


class TurnPorts:
    """The engine's ports for one message of one contact."""

    def __init__(
        self, runtime: Runtime, directory: Directory, db: AsyncSession, contact: ContactRecord
    ) -> None:
        self.runtime = runtime
        self.directory = directory
        self.catalogs = runtime.catalogs
        self.db = db
        self.contact = contact
        self.area_index, self.keywords, self.detector = runtime.indexes(directory)

    @property
    def languages(self) -> list[str]:
        return list(self.directory.languages)

    @property
    def default_language(self) -> str:
        return self.directory.default_language

    def keyword(self, text: str) -> Keyword | None:
        return self.keywords.match(text)

    def detect_language(self, text: str) -> str | None:
        """A discreet entry word is in the language it was listed under; anything else
        is guessed, and only a confident guess counts."""
        listed = self.directory.entry_words.get(fold(text))
        if listed in self.directory.languages:
            return listed
        found = self.detector.detect(text)
        return found.language if found.confident else None

    def options(self, source: str, language: str) -> list[Choice]:
        if source == "languages":
            return [
                Choice(code, self.catalogs.text(code, msg("language.name")))
                for code in self.directory.languages
            ]
        if source == "concern_categories":
            return [
                Choice(c.key, self.directory.localized(c.names, language))
                for c in self.directory.categories
                if c.routes_to == "forum"
            ]
        if source == "chair_forums":
            return [
                Choice(
                    str(forum_id),
                    self.directory.localized(self.directory.forums[forum_id].names, language),
                )
                for forum_id in self.directory.chairs.get(self.contact.urn_hash, ())
            ]
        if source == "subscriptions":
            return self._subscription_options(language)
        raise KeyError(source)

    def _subscription_options(self, language: str) -> list[Choice]:
        """The news a person can follow: the forums covering their area (every forum when
        their area is unknown), then the awareness topics."""
        d = self.directory
        area = self.contact.area_id
        near = set(d.ancestors(area)) if area is not None else set()
        forums = [
            forum_id
            for forum_id in d.forums
            if not near or near & set(d.forum_coverage.get(forum_id, ()))
        ] or list(d.forums)
        return [
            Choice(f"forum:{forum_id}", d.localized(d.forums[forum_id].names, language))
            for forum_id in forums
        ] + [
            Choice(f"topic:{topic_id}", d.localized(names, language))
            for topic_id, names in d.topics.items()
        ]

    def match_area(self, text: str, language: str) -> AreaMatch:
        return self.area_index.match(text, language)

    def nearest_area(self, location: Location, language: str) -> AreaCandidate | None:
        return self.area_index.nearest(location, language)

    async def run_action(self, name: str, turn: Turn, vars: dict[str, Any]) -> ActionResult:
        context = ActionContext(self.db, self.directory, self.catalogs, self.contact, turn, vars)
        return await ACTIONS[name](context)

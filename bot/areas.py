"""Finding the area a person means from what they typed or the location they shared.

People write place names as they say them: "eastley", "Kakuma 3", "à Niamey".
Names and aliases of every language are matched exactly first, then fuzzily;
when several places fit, the person is asked which one rather than guessed for.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.directory import Directory
from bot.geo import distance_km
from bot.messages import Location
from bot.text import fold
from flows.ports import AreaCandidate, AreaMatch

FUZZY_CUTOFF = 80.0
CLEAR_LEAD = 8.0
MAX_CANDIDATES = 5
MIN_FUZZY_LENGTH = 3
NEAREST_AREA_MAX_KM = 100.0


@dataclass(frozen=True)
class _Entry:
    folded: str
    area_id: int


class AreaIndex:
    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        entries: dict[str, set[int]] = {}
        for area in directory.areas.values():
            for name in (*area.names.values(), *area.aliases):
                folded = fold(name)
                if folded:
                    entries.setdefault(folded, set()).add(area.id)
        self._entries = entries
        self._keys = list(entries)

    def _candidates(self, area_ids: list[int], language: str) -> AreaMatch:
        labels = [
            AreaCandidate(self.directory.areas[i].key, self.directory.area_label(i, language))
            for i in area_ids
        ]
        return AreaMatch(tuple(labels[:MAX_CANDIDATES]))

    def match(self, text: str, language: str) -> AreaMatch:
        folded = fold(text)
        if not folded:
            return AreaMatch(())
        exact = self._entries.get(folded)
        if exact:
            return self._candidates(sorted(exact), language)
        if len(folded) < MIN_FUZZY_LENGTH:  # "a" would fuzzily match half the map
            return AreaMatch(())
        scored: dict[int, float] = {}
        for key, score, _ in process.extract(
            folded, self._keys, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF, limit=20
        ):
            for area_id in self._entries[key]:
                scored[area_id] = max(scored.get(area_id, 0.0), score)
        if not scored:
            return AreaMatch(())
        ranked = sorted(scored, key=lambda i: (-scored[i], i))
        best = scored[ranked[0]]
        close = [i for i in ranked if best - scored[i] < CLEAR_LEAD]
        return self._candidates(close, language)

    def nearest(self, location: Location, language: str) -> AreaCandidate | None:
        best: tuple[float, int] | None = None
        for area in self.directory.areas.values():
            if area.latitude is None or area.longitude is None:
                continue
            km = distance_km(location.latitude, location.longitude, area.latitude, area.longitude)
            if km <= NEAREST_AREA_MAX_KM and (best is None or km < best[0]):
                best = (km, area.id)
        if best is None:
            return None
        area_id = best[1]
        return AreaCandidate(
            self.directory.areas[area_id].key, self.directory.area_label(area_id, language)
        )

"""Deciding where a case goes: a forum, a protection unit, or the programme queue.

In order: explicit rules of the deployment file; a shared location, to the nearest
forum (or unit) whose service radius reaches it; the area's own coverage, then its
parent's, up the hierarchy. A case that nothing covers goes to the programme
queue: it is never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.directory import CategoryInfo, Directory
from bot.geo import distance_km
from bot.messages import Location

Queue = Literal["forum", "unit", "programme"]


@dataclass(frozen=True)
class Route:
    queue: Queue
    forum_id: int | None = None
    unit_id: int | None = None
    reason: str = "no_coverage"


def _by_rule(directory: Directory, category: CategoryInfo, area_id: int | None) -> Route | None:
    chain = directory.ancestors(area_id) if area_id is not None else []
    to_units = category.routes_to == "protection_unit"
    for rule in directory.rules:
        if rule.category_id not in (None, category.id):
            continue
        if rule.category_id is None and (rule.unit_id is not None) != to_units:
            continue  # an area-wide rule never sends a protection case to a forum
        if rule.area_id is not None and rule.area_id not in chain:
            continue
        if rule.forum_id in directory.forums:
            return Route("forum", forum_id=rule.forum_id, reason="rule")
        if rule.unit_id in directory.units:
            return Route("unit", unit_id=rule.unit_id, reason="rule")
    return None


def _by_location(directory: Directory, to_units: bool, location: Location) -> Route | None:
    points = directory.units if to_units else directory.forums
    best: tuple[float, int] | None = None
    for point in points.values():
        if point.latitude is None or point.longitude is None or not point.radius_km:
            continue
        km = distance_km(location.latitude, location.longitude, point.latitude, point.longitude)
        if km <= point.radius_km and (best is None or km < best[0]):
            best = (km, point.id)
    if best is None:
        return None
    if to_units:
        return Route("unit", unit_id=best[1], reason="location")
    return Route("forum", forum_id=best[1], reason="location")


def _by_coverage(directory: Directory, to_units: bool, area_id: int) -> Route | None:
    coverage = directory.unit_coverage if to_units else directory.forum_coverage
    for depth, ancestor in enumerate(directory.ancestors(area_id)):
        covering = coverage.get(ancestor)
        if covering:
            reason = "coverage" if depth == 0 else "parent_coverage"
            if to_units:
                return Route("unit", unit_id=covering[0], reason=reason)
            return Route("forum", forum_id=covering[0], reason=reason)
    return None


def route_case(
    directory: Directory,
    category: CategoryInfo,
    area_id: int | None,
    location: Location | None = None,
) -> Route:
    to_units = category.routes_to == "protection_unit"
    found = _by_rule(directory, category, area_id)
    if found is None and location is not None:
        found = _by_location(directory, to_units, location)
    if found is None and area_id is not None:
        found = _by_coverage(directory, to_units, area_id)
    return found or Route("programme")

"""pydantic's complaints in plain words, one clause per bad field: the same wording
for bad settings, a bad flow file and a bad staff form."""

from __future__ import annotations

from pydantic import ValidationError


def describe_invalid(error: ValidationError, whole: str = "") -> str:
    """``where: what`` for each error; ``whole`` names an error about the whole thing
    (no field), left unnamed when empty. pydantic's "Value error, " says nothing."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or whole
        said = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {said}" if where else said)
    return "; ".join(parts)

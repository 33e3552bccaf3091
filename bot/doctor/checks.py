"""One finding of ``baraza doctor`` and how it is printed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str  # what was checked, e.g. "telegram webhook"
    status: Status
    says: str  # what was found, in plain words
    fix: str = ""  # what to do about it (empty when ok)

    def line(self) -> str:
        line = f"{self.status.upper():<4}  {self.name}: {self.says}"
        if self.fix and self.status != "ok":
            line += f"{'' if line.endswith('.') else '.'} Fix: {self.fix}"
        return line


def ok(name: str, says: str) -> Check:
    return Check(name, "ok", says)


def warn(name: str, says: str, fix: str) -> Check:
    return Check(name, "warn", says, fix)


def fail(name: str, says: str, fix: str) -> Check:
    return Check(name, "fail", says, fix)

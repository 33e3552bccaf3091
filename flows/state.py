"""A contact's place in a conversation, as persisted between messages.

The state is plain data (JSON) so any process can pick up the next message; it
is sealed at rest by the session table because it holds half-finished answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_HISTORY = 20


@dataclass
class SessionState:
    flow: str
    step: str
    vars: dict[str, Any] = field(default_factory=dict)
    history: list[list[str]] = field(default_factory=list)
    resume: list[str] | None = None
    pending: list[list[str]] | None = None
    retries: int = 0

    def visit(self, flow: str, step: str) -> None:
        self.flow, self.step = flow, step
        if not self.history or self.history[-1] != [flow, step]:
            self.history.append([flow, step])
            del self.history[:-MAX_HISTORY]

    def to_json(self) -> str:
        data = {
            "flow": self.flow,
            "step": self.step,
            "vars": self.vars,
            "history": self.history,
            "resume": self.resume,
            "pending": self.pending,
            "retries": self.retries,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> SessionState:
        return cls(**json.loads(raw))

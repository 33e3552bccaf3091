"""The shape of a flow file, validated strictly so a typo fails at start, not mid-chat.

Step kinds:

- ``message``: say something, go on at once.
- ``choice``: ask to pick one option (fixed ``options`` or ``options_from`` a source).
- ``text``: ask for free text, with length bounds and an optional named validator.
- ``area``: ask where, by name (fuzzy) or by a shared location.
- ``confirm``: ask yes or no.
- ``action``: run a named action; its outcome picks the next step.
- ``goto``: continue in another flow.

A question marked ``skippable`` also takes the skip word (SKIP, PASSER, SALTAR ...).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
MessageId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=128)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    value: Identifier
    label: MessageId
    next: Identifier | None = None


class MessageStep(_Strict):
    type: Literal["message"]
    text: MessageId
    next: Identifier | None = None


class ChoiceStep(_Strict):
    type: Literal["choice"]
    prompt: MessageId
    options: tuple[Option, ...] = ()
    options_from: (
        Literal["concern_categories", "languages", "chair_forums", "subscriptions"] | None
    ) = None
    save: Identifier | None = None
    next: Identifier | None = None
    multilingual: bool = False
    skippable: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> ChoiceStep:
        if bool(self.options) == bool(self.options_from):
            raise ValueError("a choice step needs either options or options_from, not both")
        return self


class TextStep(_Strict):
    type: Literal["text"]
    prompt: MessageId
    save: Identifier
    next: Identifier | None = None
    min_length: int = Field(1, ge=1)
    max_length: int = Field(1000, ge=1, le=10000)
    validate_as: Literal["reference_code"] | None = None
    skippable: bool = False


class AreaStep(_Strict):
    type: Literal["area"]
    prompt: MessageId
    save: Identifier
    next: Identifier | None = None
    skippable: bool = False


class ConfirmStep(_Strict):
    type: Literal["confirm"]
    prompt: MessageId
    yes: Identifier
    no: Identifier
    save: Identifier | None = None  # keeps "yes" or "no" (a consent, say)


class ActionStep(_Strict):
    type: Literal["action"]
    action: Identifier
    next: Identifier | None = None
    outcomes: dict[Identifier, Identifier] = Field(default_factory=dict)


class GotoStep(_Strict):
    type: Literal["goto"]
    flow: Identifier
    step: Identifier | None = None


Step = Annotated[
    MessageStep | ChoiceStep | TextStep | AreaStep | ConfirmStep | ActionStep | GotoStep,
    Field(discriminator="type"),
]
WAITING_KINDS = (ChoiceStep, TextStep, AreaStep, ConfirmStep)


class Flow(_Strict):
    id: Identifier
    description: str = ""
    start: Identifier
    steps: dict[Identifier, Step]
    # A sensitive flow (protection): the quick-exit word ends it at every step, its
    # messages are erased where the channel can, and its replies are kept no longer
    # than it takes to send them.
    sensitive: bool = False

    @model_validator(mode="after")
    def _targets_exist(self) -> Flow:
        if self.start not in self.steps:
            raise ValueError(f"start step {self.start!r} is not defined")
        for name, step in self.steps.items():
            for target in local_targets(step):
                if target not in self.steps:
                    raise ValueError(f"step {name!r} goes to undefined step {target!r}")
        return self


def local_targets(step: BaseModel) -> list[str]:
    """The steps of the same flow this step can lead to."""
    targets: list[str] = []
    if isinstance(step, MessageStep | TextStep | AreaStep | ChoiceStep | ActionStep) and step.next:
        targets.append(step.next)
    if isinstance(step, ChoiceStep):
        targets += [o.next for o in step.options if o.next]
    if isinstance(step, ConfirmStep):
        targets += [step.yes, step.no]
    if isinstance(step, ActionStep):
        targets += list(step.outcomes.values())
    return targets


def message_ids(flow: Flow) -> set[str]:
    ids: set[str] = set()
    for step in flow.steps.values():
        for attr in ("text", "prompt"):
            value = getattr(step, attr, None)
            if value:
                ids.add(value)
        if isinstance(step, ChoiceStep):
            ids.update(o.label for o in step.options)
    return ids

"""Loading the flow files and checking them against each other and the engine.

A bad edit must fail ``baraza flows check`` and the app's start-up with a message
that names the file and the field, never a conversation halfway through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from flows.schema import ActionStep, Flow, GotoStep

FLOWS_DIR = Path(__file__).parent
REQUIRED_FLOWS = ("menu", "language", "report", "status", "help")


class FlowError(ValueError):
    """A flow file is malformed or refers to something that does not exist."""


@dataclass(frozen=True)
class FlowSet:
    flows: dict[str, Flow]

    def __getitem__(self, flow_id: str) -> Flow:
        return self.flows[flow_id]

    def __contains__(self, flow_id: object) -> bool:
        return flow_id in self.flows


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        parts.append(f"{where}: {item['msg']}" if where else item["msg"])
    return "; ".join(parts)


def load_flow(path: Path) -> Flow:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FlowError(f"{path.name}: not valid YAML: {exc}") from exc
    try:
        flow = Flow.model_validate(data)
    except ValidationError as exc:
        raise FlowError(f"{path.name}: {_describe(exc)}") from exc
    if flow.id != path.stem:
        raise FlowError(f"{path.name}: id {flow.id!r} must match the file name")
    return flow


def load_flows(
    directory: Path | None = None, known_actions: Iterable[str] | None = None
) -> FlowSet:
    directory = directory or FLOWS_DIR
    flows = {p.stem: load_flow(p) for p in sorted(directory.glob("*.yaml"))}
    missing = [f for f in REQUIRED_FLOWS if f not in flows]
    if missing:
        raise FlowError(f"missing required flows: {', '.join(missing)}")
    actions = set(known_actions) if known_actions is not None else None
    for flow in flows.values():
        for name, step in flow.steps.items():
            if isinstance(step, GotoStep):
                if step.flow not in flows:
                    raise FlowError(f"{flow.id}.yaml: step {name!r} goes to unknown flow")
                target = flows[step.flow]
                if step.step and step.step not in target.steps:
                    raise FlowError(f"{flow.id}.yaml: step {name!r} goes to unknown step")
            if isinstance(step, ActionStep) and actions is not None and step.action not in actions:
                raise FlowError(
                    f"{flow.id}.yaml: step {name!r} runs unknown action {step.action!r}"
                )
    return FlowSet(flows)

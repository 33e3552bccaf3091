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

from bot.validation import describe_invalid
from bot.yaml_lines import DuplicateKeyError, load_with_lines
from flows.schema import WAITING_KINDS, ActionStep, Flow, GotoStep, local_targets

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


def load_flow(path: Path) -> Flow:
    try:
        data, _ = load_with_lines(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FlowError(f"{path.name}: not valid YAML: {exc}") from exc
    except DuplicateKeyError as exc:  # YAML would silently keep the last one
        raise FlowError(f"{path.name}:{exc.line}: {exc}") from exc
    try:
        flow = Flow.model_validate(data)
    except ValidationError as exc:
        raise FlowError(f"{path.name}: {describe_invalid(exc)}") from exc
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
    loop = silent_loop(flows)
    if loop:
        path = " -> ".join(f"{flow}.{step}" for flow, step in loop)
        raise FlowError(f"steps loop without ever asking the person anything: {path}")
    return FlowSet(flows)


def silent_loop(flows: dict[str, Flow]) -> list[tuple[str, str]]:
    """A cycle of steps that never wait for an answer (messages, actions, gotos), across
    flows: the engine would run it until its safety limit. Empty when there is none."""
    Node = tuple[str, str]

    def after(node: Node) -> list[Node]:
        flow_id, step_id = node
        step = flows[flow_id].steps[step_id]
        if isinstance(step, WAITING_KINDS):
            return []
        if isinstance(step, GotoStep):
            return [(step.flow, step.step or flows[step.flow].start)]
        return [(flow_id, target) for target in local_targets(step)]

    done: set[Node] = set()
    for flow_id, flow in flows.items():
        for step_id in flow.steps:
            trail: list[Node] = []
            on_trail: set[Node] = set()
            stack: list[tuple[Node, int]] = [((flow_id, step_id), 0)]
            while stack:
                node, depth = stack.pop()
                del trail[depth:]
                on_trail.intersection_update(trail)
                if node in on_trail:
                    return [*trail[trail.index(node) :], node]
                if node in done:
                    continue
                trail.append(node)
                on_trail.add(node)
                following = after(node)
                if not following:
                    done.add(node)
                stack += [(nxt, depth + 1) for nxt in following]
    return []

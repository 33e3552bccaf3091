"""``baraza flows check``: everything a flow edit can break, found before it ships.

The schema and cross-references of each flow, every message id it names present
in every catalog with the same placeholders as English, and each Mermaid diagram
matching its YAML.
"""

from __future__ import annotations

from bot.actions import ACTIONS
from bot.i18n import FALLBACK_LANGUAGE, Catalogs, load_catalogs, placeholders
from bot.settings import Settings
from flows.diagram import stale
from flows.loader import FLOWS_DIR, FlowError, load_flows
from flows.schema import message_ids


def catalog_problems(catalogs: Catalogs, ids: set[str]) -> list[str]:
    problems = []
    for language in catalogs.languages:
        for message_id in sorted(ids):
            if not catalogs.has(language, message_id):
                problems.append(f"{language}: missing message {message_id}")
                continue
            if language == FALLBACK_LANGUAGE:
                continue
            wanted = placeholders(catalogs.raw(FALLBACK_LANGUAGE, message_id))
            found = placeholders(catalogs.raw(language, message_id))
            if wanted != found:
                problems.append(
                    f"{language}: {message_id} has placeholders {sorted(found)}, "
                    f"English has {sorted(wanted)}"
                )
    return problems


def check_flows(settings: Settings) -> list[str]:
    directory = settings.flows_dir or FLOWS_DIR
    try:
        flowset = load_flows(directory, known_actions=ACTIONS)
    except FlowError as exc:
        return [str(exc)]
    catalogs = load_catalogs(settings.locales_dir)
    ids: set[str] = set()
    for flow in flowset.flows.values():
        ids |= message_ids(flow)
    problems = catalog_problems(catalogs, ids)
    problems += [
        f"{name}.mmd is out of date: run `baraza flows diagram`"
        for name in stale(flowset, directory)
    ]
    return problems

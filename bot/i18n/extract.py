"""A Babel extractor for flow files, so `make i18n` finds the message ids flows name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

_MESSAGE_KEYS = {"text", "prompt", "label"}


def _walk(node: yaml.Node) -> Iterator[tuple[int, str]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value in _MESSAGE_KEYS and isinstance(value, yaml.ScalarNode):
                yield value.start_mark.line + 1, value.value
            else:
                yield from _walk(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item)


def extract_flow_messages(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    root = yaml.compose(fileobj.read().decode("utf-8"), Loader=yaml.SafeLoader)
    if root is None:
        return
    for line, message_id in _walk(root):
        yield line, "", message_id, []

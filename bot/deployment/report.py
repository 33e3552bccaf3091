"""What an import did (or, in a dry run, would do): rows added, changed, kept,
deactivated, and the web edits it would have undone (or overwrote, or kept as asked).

Every field the importer writes goes through ``ImportReport.set``, so the report is
complete by construction and the web-edit rule (``bot.deployment.web_edits``) is
applied in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.deployment.web_edits import label, marked, unmark


class ImportConflicts(Exception):
    """The import would undo edits made on the web; nothing was written."""

    def __init__(self, conflicts: list[str]) -> None:
        super().__init__(f"{len(conflicts)} web edit(s) the file would undo")
        self.conflicts = conflicts


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class ImportReport:
    """``overwrite`` lets the file win over web edits; ``keep`` keeps them and imports
    the rest; with neither, a web edit the file would undo is a conflict."""

    overwrite: bool = False
    keep: bool = False
    changes: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    deactivated: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)  # every row the file names
    conflicts: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)
    kept_edits: list[str] = field(default_factory=list)  # web edits left as they are

    def __post_init__(self) -> None:
        if self.overwrite and self.keep:
            raise ValueError("a web edit is either overwritten or kept, not both")

    def _changed(self, row: Any, what: str) -> None:
        self.changes += 1
        name = label(row)
        if name not in self.added and what not in self.changed.setdefault(name, []):
            self.changed[name].append(what)

    def added_row(self, row: Any) -> None:
        self.changes += 1
        self.added.append(label(row))

    def may_change(self, row: Any, what: str, differs: bool, said: str) -> bool:
        """Whether the import may change ``what`` of ``row``: always, unless it was
        edited on the web and the file says otherwise (a conflict; or, when asked for,
        an overwrite or a kept edit, which keeps its mark). Where the file agrees, the
        web mark goes."""
        when = marked(row, what)
        if when is None:
            return True
        if differs and not self.overwrite:
            found = f"{label(row)} {what}: edited on the web {when}; {said}"
            (self.kept_edits if self.keep else self.conflicts).append(found)
            return False
        if differs:
            self.overwritten.append(f"{label(row)} {what} (edited on the web {when})")
        unmark(row, what)
        return True

    def set(self, row: Any, **values: Any) -> None:
        for name, value in values.items():
            current = getattr(row, name)
            said = f"now {_shown(current)}, the file says {_shown(value)}"
            if self.may_change(row, name, current != value, said) and current != value:
                setattr(row, name, value)
                self._changed(row, name)

    def links_changed(self, row: Any, what: str) -> None:
        self._changed(row, what)

    def deactivate(self, row: Any) -> None:
        """A row the file no longer lists; one made on the web is a conflict."""
        if not row.active:
            return
        said = "the file does not list it, so an import would deactivate it"
        if self.may_change(row, "created", True, said):
            row.active = False
            self.changes += 1
            self.deactivated.append(label(row))

    def lines(self, *, dry_run: bool) -> list[str]:
        """The report for a person: what was (or, in a dry run, would be) done."""
        verbs = ("would add", "would change", "would keep", "would deactivate",
                 "would overwrite") if dry_run else (
                 "added", "changed", "kept", "deactivated", "overwrote")  # fmt: skip
        kept = [name for name in self.listed if name not in self.added + list(self.changed)]
        changed = ", ".join(f"{n} ({', '.join(f)})" for n, f in self.changed.items())
        out = [
            f"{verbs[0]}: {', '.join(self.added) or 'nothing'}",
            f"{verbs[1]}: {changed or 'nothing'}",
            f"{verbs[2]}: {len(kept)} row(s) as they are",
            f"{verbs[3]}: {', '.join(self.deactivated) or 'nothing'}",
        ]
        if self.overwritten:
            out.append(f"{verbs[4]} web edits: {', '.join(self.overwritten)}")
        if self.kept_edits:
            undone = "would undo" if dry_run else "would have undone"
            out.append(f"{verbs[2]} {len(self.kept_edits)} web edit(s) the file {undone}:")
            out.extend(f"  {line}" for line in self.kept_edits)
        return out
